// Runs the quickstart flow with twilio-node against the emulator program
// (go run ../), reading the codes from its outbox over HTTP.
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

async function lastCode(to) {
  const auth = "Basic " + Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString("base64");
  const res = await fetch(`${base}/_emulator/messages?to=${encodeURIComponent(to)}`, { headers: { Authorization: auth } });
  const msgs = await res.json();
  return msgs.at(-1).code;
}

test("quickstart flow with twilio-node", async () => {
  const client = emulatorClient(base, ACCOUNT_SID, AUTH_TOKEN);
  const service = client.verify.v2.services(SERVICE_SID);
  const to = "+14155552671";

  const v = await service.verifications.create({ to, channel: "sms" });
  assert.equal(v.status, "pending");
  assert.match(v.sid, /^VE[0-9a-f]{32}$/);

  const code = await lastCode(to);
  const wrong = await service.verificationChecks.create({ to, code: code === "000000" ? "111111" : "000000" });
  assert.equal(wrong.status, "pending");
  assert.equal(wrong.valid, false);

  const right = await service.verificationChecks.create({ verificationSid: v.sid, code });
  assert.equal(right.status, "approved");
  assert.equal(right.valid, true);

  await assert.rejects(service.verificationChecks.create({ to, code }), (err) => {
    assert.equal(err.status, 404);
    assert.equal(err.code, 20404);
    return true;
  });
});

test("errors arrive as RestException", async () => {
  const client = emulatorClient(base, ACCOUNT_SID, "wrong-token");
  await assert.rejects(client.verify.v2.services(SERVICE_SID).verifications.create({ to: "+14155550100", channel: "sms" }), (err) => {
    assert.equal(err.status, 401);
    assert.equal(err.code, 20003);
    return true;
  });
});

test("paging stays on the emulator", async () => {
  const client = emulatorClient(base, ACCOUNT_SID, AUTH_TOKEN);
  for (const friendlyName of ["a", "b", "c"]) {
    await client.verify.v2.services.create({ friendlyName });
  }
  const page = await client.verify.v2.services.page({ pageSize: 2 });
  assert.ok(page.nextPageUrl.startsWith(base + "/"), `next page ${page.nextPageUrl} is not on ${base}`);
  const all = await client.verify.v2.services.list({ pageSize: 2 });
  assert.ok(all.length >= 4, `listed ${all.length} services over pages of 2`);
});

test("a service's own lifecycle, and a verification fetched and canceled", async () => {
  const v2 = emulatorClient(base, ACCOUNT_SID, AUTH_TOKEN).verify.v2;
  const svc = await v2.services.create({ friendlyName: "lifecycle" });
  assert.equal((await v2.services(svc.sid).fetch()).friendlyName, "lifecycle");
  assert.equal((await v2.services(svc.sid).update({ friendlyName: "renamed", codeLength: 8 })).codeLength, 8);
  const v = await v2.services(svc.sid).verifications.create({ to: "+14155550177", channel: "sms" });
  assert.equal((await v2.services(svc.sid).verifications(v.sid).fetch()).status, "pending");
  assert.equal((await v2.services(svc.sid).verifications(v.sid).update({ status: "canceled" })).status, "canceled");
  assert.equal(await v2.services(svc.sid).remove(), true);
  await assert.rejects(v2.services(svc.sid).fetch(), (err) => err.status === 404 && err.code === 20404);
});
