// Drives the Safe List, Service Rate Limits with Buckets, Verification
// Attempts, Messaging Configurations, Templates, Forms and Passkeys with
// twilio-node against the emulator program (go run ../).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { emulatorClient } from "./emulator-client.mjs";
import { ACCOUNT_SID, AUTH_TOKEN, SERVICE_SID, startEmulator } from "./emulator-process.mjs";

let emu;
let base;

before(async () => {
  emu = await startEmulator();
  base = emu.base;
});

after(() => emu?.stop());

const client = () => emulatorClient(base, ACCOUNT_SID, AUTH_TOKEN);

test("safe list: create, fetch, remove", async () => {
  const safelist = client().verify.v2.safelist;
  const n = await safelist.create({ phoneNumber: "+14155550141" });
  assert.match(n.sid, /^GN[0-9a-f]{32}$/);
  const got = await safelist("+14155550141").fetch();
  assert.equal(got.sid, n.sid);
  assert.equal(await safelist("+14155550141").remove(), true);
  await assert.rejects(safelist("+14155550141").fetch(), (err) => err.status === 404 && err.code === 20404);
});

test("rate limits: a bucket refuses the start that exceeds it", async () => {
  const service = client().verify.v2.services(SERVICE_SID);
  const rl = await service.rateLimits.create({ uniqueName: "end_user_id", description: "per user" });
  assert.match(rl.sid, /^RK[0-9a-f]{32}$/);
  const b = await service.rateLimits(rl.sid).buckets.create({ max: 1, interval: 60 });
  assert.match(b.sid, /^BL[0-9a-f]{32}$/);
  assert.equal((await service.rateLimits(rl.sid).buckets(b.sid).update({ max: 2 })).max, 2);
  assert.equal((await service.rateLimits(rl.sid).buckets(b.sid).fetch()).interval, 60);
  assert.equal((await service.rateLimits(rl.sid).update({ description: "per end user" })).description, "per end user");
  assert.equal((await service.rateLimits(rl.sid).fetch()).uniqueName, "end_user_id");
  const spare = await service.rateLimits(rl.sid).buckets.create({ max: 5, interval: 3600 });
  assert.equal(await service.rateLimits(rl.sid).buckets(spare.sid).remove(), true);
  assert.equal((await service.rateLimits.list()).filter((l) => l.sid === rl.sid).length, 1);
  assert.equal((await service.rateLimits(rl.sid).buckets.list()).length, 1);
  const rateLimits = { end_user_id: "u-7" };
  await service.verifications.create({ to: "+14155550142", channel: "sms", rateLimits });
  await service.verifications.create({ to: "+14155550143", channel: "sms", rateLimits });
  await assert.rejects(service.verifications.create({ to: "+14155550144", channel: "sms", rateLimits }),
    (err) => err.status === 429 && err.code === 20429);
  assert.equal(await service.rateLimits(rl.sid).remove(), true);
});

test("verification attempts: list, fetch, summary", async () => {
  const c = client();
  const to = "+573003003099";
  const v = await c.verify.v2.services(SERVICE_SID).verifications.create({ to, channel: "sms" });
  const attempts = await c.verify.v2.verificationAttempts.list({ verificationSid: v.sid });
  assert.equal(attempts.length, 1);
  assert.equal(attempts[0].sid, v.sendCodeAttempts[0].attempt_sid);
  assert.equal(attempts[0].conversionStatus, "unconverted");
  const one = await c.verify.v2.verificationAttempts(attempts[0].sid).fetch();
  assert.equal(one.channelData.country, "CO");
  const sum = await c.verify.v2.verificationAttemptsSummary().fetch({ country: "CO" });
  assert.ok(sum.totalAttempts >= 1);
});

// The outbox, read over the emulator's control endpoint.
async function lastMessage(to) {
  const res = await fetch(`${base}/_emulator/messages?to=${encodeURIComponent(to)}`, {
    headers: { Authorization: "Basic " + Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString("base64") },
  });
  const msgs = await res.json();
  return msgs[msgs.length - 1];
}

test("messaging configurations and templates change what the outbox records; forms", async () => {
  const c = client();
  const service = c.verify.v2.services(SERVICE_SID);
  const mg = "MGaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
  const mc = await service.messagingConfigurations.create({ country: "GB", messagingServiceSid: mg });
  assert.equal(mc.country, "GB");
  assert.equal((await service.messagingConfigurations("GB").fetch()).messagingServiceSid, mg);
  const templates = await c.verify.v2.templates.list({ friendlyName: "short" });
  assert.equal(templates.length, 1);
  await service.verifications.create({ to: "+447700900151", channel: "sms", templateSid: templates[0].sid, locale: "es" });
  const m = await lastMessage("+447700900151");
  assert.equal(m.messaging_service_sid, mg);
  assert.equal(m.template_sid, templates[0].sid);
  assert.ok(m.body.startsWith(`${m.code} es tu código de `), m.body);
  await service.messagingConfigurations("GB").update({ messagingServiceSid: mg });
  assert.equal((await service.messagingConfigurations.list()).length, 1);
  assert.equal(await service.messagingConfigurations("GB").remove(), true);
  const form = await c.verify.v2.forms("form-push").fetch();
  assert.equal(form.formType, "form-push");
  assert.ok(form.forms.create_factor);
});

test("passkeys: register and approve a challenge, a simulated browser standing in for WebAuthn", async () => {
  const service = client().verify.v2.services(SERVICE_SID);
  const origin = "https://example.com";
  const clientData = (type, challenge) => Buffer.from(JSON.stringify({ type, challenge, origin })).toString("base64url");
  const f = await service.newFactors.create({
    friendly_name: "laptop", identity: "user-node-0001",
    config: { relying_party: { id: "example.com", name: "Example", origins: [origin] } },
  });
  assert.equal(f.status, "unverified");
  const v = await service.newVerifyFactors.update({
    id: "cred-node", rawId: "cred-node", authenticatorAttachment: "platform", type: "public-key",
    response: { attestationObject: Buffer.from("simulated").toString("base64url"), clientDataJSON: clientData("webauthn.create", f.options.publicKey.challenge) },
  });
  assert.equal(v.status, "verified");
  const ch = await service.newChallenge().create({ identity: "user-node-0001" });
  assert.equal(ch.status, "pending");
  const ok = await service.approveChallenge.update({
    id: "cred-node", rawId: "cred-node", authenticatorAttachment: "platform", type: "public-key",
    response: {
      authenticatorData: Buffer.from("simulated").toString("base64url"), signature: Buffer.from("simulated").toString("base64url"),
      clientDataJSON: clientData("webauthn.get", ch.options.publicKey.challenge),
    },
  });
  assert.equal(ok.status, "approved");
  assert.equal(ok.sid, ch.sid);
});
