// The recipe: a twilio-node client whose requests go to the verifykit
// emulator instead of Twilio. twilio-node has no base-URL setting, so its
// RequestClient is subclassed to rewrite each request's host.
import twilio from "twilio";

export function emulatorClient(emulatorURL, accountSid, authToken) {
  const target = new URL(emulatorURL);
  class EmulatorRequestClient extends twilio.RequestClient {
    request(opts) {
      const u = new URL(opts.uri);
      if (u.hostname.endsWith("twilio.com")) {
        u.protocol = target.protocol;
        u.host = target.host;
        opts = { ...opts, uri: u.toString() };
      }
      return super.request(opts);
    }
  }
  return twilio(accountSid, authToken, { httpClient: new EmulatorRequestClient() });
}
