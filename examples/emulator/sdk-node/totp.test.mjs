// Enrols and checks a TOTP factor with twilio-node against the emulator
// program (go run ../): newFactors.create, factors(sid).update with
// authPayload, challenges.create with authPayload. Codes are computed here
// (RFC 6238, as an authenticator app does); the emulator's clock is moved
// over HTTP so that each login uses a new time step.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { emulatorClient } from "./emulator-client.mjs";
import { ACCOUNT_SID, AUTH_TOKEN, SERVICE_SID, startEmulator } from "./emulator-process.mjs";

const AUTH = "Basic " + Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString("base64");

let emu;
let base;
let offset = 0; // seconds the emulator's clock was advanced

before(async () => {
  emu = await startEmulator();
  base = emu.base;
});

after(() => emu?.stop());

function base32Decode(s) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0, value = 0;
  const out = [];
  for (const c of s.replace(/=+$/, "").toUpperCase()) {
    value = (value << 5) | alphabet.indexOf(c);
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

// totp is RFC 6238 with SHA-1, 6 digits and 30 s steps, at the emulator's
// time (the wall clock plus what the test advanced).
function totp(secret) {
  const step = Math.floor((Date.now() / 1000 + offset) / 30);
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(step));
  const sum = createHmac("sha1", base32Decode(secret)).update(msg).digest();
  const off = sum[sum.length - 1] & 0xf;
  return String((sum.readUInt32BE(off) & 0x7fffffff) % 1000000).padStart(6, "0");
}

async function advance(seconds) {
  const res = await fetch(`${base}/_emulator/clock?advance=${seconds}s`, { method: "POST", headers: { Authorization: AUTH } });
  assert.equal(res.status, 200);
  offset += seconds;
}

test("TOTP factor with twilio-node", async () => {
  const client = emulatorClient(base, ACCOUNT_SID, AUTH_TOKEN);
  const entity = client.verify.v2.services(SERVICE_SID).entities("ff483d1ff591898a9942916050d2ca3f");

  const factor = await entity.newFactors.create({
    friendlyName: "Taylor's account",
    factorType: "totp",
    configTimeStep: 30,
    configSkew: 1,
    configCodeLength: 6,
    configAlg: "sha1",
  });
  assert.equal(factor.status, "unverified");
  assert.match(factor.sid, /^YF[0-9a-f]{32}$/);
  assert.match(factor.binding.uri, /^otpauth:\/\/totp\//);
  const secret = factor.binding.secret;

  const wrong = await entity.factors(factor.sid).update({ authPayload: totp(secret) === "000000" ? "111111" : "000000" });
  assert.equal(wrong.status, "unverified");
  const verified = await entity.factors(factor.sid).update({ authPayload: totp(secret) });
  assert.equal(verified.status, "verified");

  await advance(30);
  const code = totp(secret);
  const challenge = await entity.challenges.create({ factorSid: factor.sid, authPayload: code });
  assert.equal(challenge.status, "approved");
  const replay = await entity.challenges.create({ factorSid: factor.sid, authPayload: code });
  assert.equal(replay.status, "pending");
  await advance(30);
  const answered = await entity.challenges(replay.sid).update({ authPayload: totp(secret) });
  assert.equal(answered.status, "approved");
  assert.equal((await entity.factors(factor.sid).fetch()).status, "verified");

  const factors = await entity.factors.list();
  assert.equal(factors.length, 1);
  assert.equal(factors[0].sid, factor.sid);

  await entity.remove();
  await assert.rejects(entity.factors(factor.sid).fetch(), (err) => {
    assert.equal(err.status, 404);
    return true;
  });
});
