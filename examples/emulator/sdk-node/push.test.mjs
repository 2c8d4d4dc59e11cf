// Drives AccessTokens and Webhooks with twilio-node against the emulator
// program (go run ../), and checks the emulator's signed webhook delivery
// with twilio-node's own validateRequest.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { generateKeyPairSync, sign } from "node:crypto";
import twilio from "twilio";
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

test("access tokens: create and fetch a push enrolment token", async () => {
  const service = client().verify.v2.services(SERVICE_SID);
  const t = await service.accessTokens.create({ identity: "ff483d1ff591898a9942916050d2ca3f", factorType: "push", factorFriendlyName: "John's phone", ttl: 300 });
  assert.match(t.sid, /^YK[0-9a-f]{32}$/);
  assert.equal(t.entityIdentity, "ff483d1ff591898a9942916050d2ca3f");
  assert.equal(t.ttl, 300);
  assert.ok(t.token.length > 20);
  const got = await service.accessTokens(t.sid).fetch();
  assert.equal(got.factorFriendlyName, "John's phone");
  await assert.rejects(service.accessTokens.create({ identity: "ff483d1ff591898a9942916050d2ca3f", factorType: "push", ttl: 30 }),
    (err) => err.status === 400);
});

test("webhooks: CRUD, and a signed event that twilio-node validates", async () => {
  const service = client().verify.v2.services(SERVICE_SID);
  const received = [];
  let arrived;
  const got = new Promise((resolve) => { arrived = resolve; });
  const app = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => { body += c; });
    req.on("end", () => {
      const params = Object.fromEntries(new URLSearchParams(body));
      const url = `http://${req.headers.host}${req.url}`;
      const ok = twilio.validateRequest(AUTH_TOKEN, req.headers["x-twilio-signature"], url, params);
      received.push({ ok, params });
      res.statusCode = ok ? 204 : 403;
      res.end();
      if (params.type === "factor.created") arrived();
    });
  });
  await new Promise((r) => app.listen(0, "127.0.0.1", r));
  try {
    const url = `http://127.0.0.1:${app.address().port}/twilio/verify-events`;
    const hook = await service.webhooks.create({ friendlyName: "app", eventTypes: ["factor.created", "factor.verified"], webhookUrl: url });
    assert.match(hook.sid, /^YW[0-9a-f]{32}$/);
    assert.equal(hook.status, "enabled");
    assert.equal(hook.version, "v2");
    assert.equal((await service.webhooks(hook.sid).update({ version: "v1" })).version, "v1");
    assert.ok((await service.webhooks.list()).some((h) => h.sid === hook.sid));
    assert.equal((await service.webhooks(hook.sid).fetch()).webhookUrl, url);
    const f = await service.entities("ff483d1ff591898a9942916050d2ca3f").newFactors.create({ friendlyName: "app", factorType: "totp" });
    await got;
    const ev = received.find((r) => r.params.type === "factor.created");
    assert.equal(ev.ok, true);
    assert.equal(ev.params.factor_sid, f.sid);
    assert.equal(ev.params.entity_identity, "ff483d1ff591898a9942916050d2ca3f");
    assert.equal(await service.webhooks(hook.sid).remove(), true);
    await assert.rejects(service.webhooks(hook.sid).fetch(), (err) => err.status === 404 && err.code === 20404);
  } finally {
    app.close();
  }
});

// A push device, as the Verify Push SDKs act, in node:crypto: a P-256
// key, the factor created with the access token and verified by signing
// its SID, then every call authenticated by an ES256 request JWT.
function pushDevice(identity) {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  let factor;
  const b64url = (v) => Buffer.from(v).toString("base64url");
  const requestJWT = () => {
    const now = Math.floor(Date.now() / 1000);
    const head = b64url(JSON.stringify({ cty: "twilio-pba;v=1", kid: factor.config.credential_sid, typ: "JWT", alg: "ES256" }));
    const body = b64url(JSON.stringify({ sub: factor.account_sid, nbf: now, exp: now + 600 }));
    const sig = sign("sha256", Buffer.from(`${head}.${body}`), { key: privateKey, dsaEncoding: "ieee-p1363" });
    return `${head}.${body}.${sig.toString("base64url")}`;
  };
  const post = async (path, cred, form) => {
    const res = await fetch(`${base}/v2/Services/${SERVICE_SID}/Entities/${identity}${path}`, {
      method: "POST",
      headers: { Authorization: "Basic " + Buffer.from(`token:${cred}`).toString("base64"), "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(form),
    });
    const out = await res.json();
    assert.ok(res.ok, `device POST ${path}: ${res.status} ${JSON.stringify(out)}`);
    return out;
  };
  return {
    async enrol(accessToken) {
      factor = await post("/Factors", accessToken, {
        FriendlyName: "node device", FactorType: "push", "Binding.Alg": "ES256",
        "Binding.PublicKey": publicKey.export({ type: "spki", format: "der" }).toString("base64"),
        "Config.SdkVersion": "node-recipe", "Config.AppId": "com.example.recipe", "Config.NotificationPlatform": "fcm", "Config.NotificationToken": "fcm-registration-token-of-the-device",
      });
      const payload = sign("sha256", Buffer.from(factor.sid), privateKey).toString("base64"); // DER
      return post(`/Factors/${factor.sid}`, requestJWT(), { AuthPayload: payload });
    },
  };
}

test("push: entities, a device's factor, a challenge and its notification", async () => {
  const service = client().verify.v2.services(SERVICE_SID);
  const identity = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";
  const entity = await service.entities.create({ identity });
  assert.match(entity.sid, /^YE[0-9a-f]{32}$/);
  assert.equal((await service.entities(identity).fetch()).sid, entity.sid);
  assert.ok((await service.entities.list()).some((e) => e.identity === identity));

  const token = await service.accessTokens.create({ identity, factorType: "push" });
  const factor = await pushDevice(identity).enrol(token.token);
  assert.equal(factor.status, "verified");

  const ch = await service.entities(identity).challenges.create({
    factorSid: factor.sid, "details.message": "Log in to Example", "details.fields": [{ label: "City", value: "Bogotá" }],
  });
  assert.equal(ch.status, "pending");
  const n = await service.entities(identity).challenges(ch.sid).notifications.create({ ttl: 120 });
  assert.match(n.sid, /^NT[0-9a-f]{32}$/);
  assert.equal(n.challengeSid, ch.sid);
  assert.equal(n.ttl, 120);
  assert.equal((await service.entities(identity).challenges(ch.sid).fetch()).details.message, "Log in to Example");
  const pending = await service.entities(identity).challenges.list({ factorSid: factor.sid, status: "pending" });
  assert.deepEqual(pending.map((c) => c.sid), [ch.sid]);

  assert.equal(await service.entities(identity).factors(factor.sid).remove(), true);
  assert.equal((await service.entities(identity).factors.list()).length, 0);
  assert.equal(await service.entities(identity).remove(), true);
});
