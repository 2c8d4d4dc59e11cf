// Runs the whole Verify v2 flow with Vonage's official Node SDK
// (@vonage/verify2, authenticated by @vonage/auth with a JWT signed by the
// application's private key) against the emulator program (go build ../),
// reading the codes from its outbox over HTTP.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Auth } from "@vonage/auth";
import { Verify2 } from "@vonage/verify2";

const APPLICATION_ID = "00000000-0000-4000-8000-00000000e0e0";

let proc;
let base;
let privateKey;

before(async () => {
  // Build the emulator program, then run it, so that killing the process
  // stops the server itself (go run would stand in between).
  const dir = fileURLToPath(new URL("..", import.meta.url));
  const tmp = mkdtempSync(join(tmpdir(), "verifykit-vonage-emulator-"));
  const bin = join(tmp, "vonage-emulator");
  const keyFile = join(tmp, "private.key");
  execFileSync("go", ["build", "-o", bin, "."], { cwd: dir, stdio: "inherit" });
  proc = spawn(bin, ["-addr", "127.0.0.1:0", "-private-key-out", keyFile], { stdio: ["ignore", "pipe", "inherit"] });
  base = await new Promise((resolve, reject) => {
    let out = "";
    proc.stdout.on("data", (chunk) => {
      out += chunk;
      const m = out.match(/listening on (http:\/\/\S+)/);
      if (m) resolve(m[1]);
    });
    proc.on("exit", (code) => reject(new Error(`emulator exited with ${code}`)));
  });
  privateKey = readFileSync(keyFile);
});

after(() => proc?.kill("SIGTERM"));

// The recipe: the SDK's apiHost points at the emulator; nothing else
// changes.
function client(key = privateKey) {
  return new Verify2(new Auth({ applicationId: APPLICATION_ID, privateKey: key }), { apiHost: base });
}

// The outbox needs the API's credentials too: here the emulator's default
// API key and secret.
const CONTROL_AUTH = "Basic " + Buffer.from("emulatorkey:emulatorsecret00").toString("base64");

async function outbox(to) {
  const res = await fetch(`${base}/_emulator/messages?to=${encodeURIComponent(to)}`, { headers: { Authorization: CONTROL_AUTH } });
  assert.equal(res.status, 200);
  return res.json();
}

test("start, wrong code, right code, gone", async () => {
  const verify = client();
  const to = "447700900001";

  const { requestId } = await verify.newRequest({ brand: "verifykit", workflow: [{ channel: "sms", to }] });
  assert.match(requestId, /^[0-9a-f-]{36}$/);

  const [msg] = await outbox(to);
  assert.equal(msg.request_id, requestId);
  assert.equal(msg.channel, "sms");

  // A second start to the same number is a 409 conflict.
  await assert.rejects(verify.newRequest({ brand: "verifykit", workflow: [{ channel: "voice", to }] }), (err) => {
    assert.equal(err.response.status, 409);
    return true;
  });

  const wrong = msg.code === "0000" ? "1111" : "0000";
  await assert.rejects(verify.checkCode(requestId, wrong), (err) => {
    assert.equal(err.response.status, 400);
    return true;
  });

  assert.equal(await verify.checkCode(requestId, msg.code), "completed");

  await assert.rejects(verify.checkCode(requestId, msg.code), (err) => {
    assert.equal(err.response.status, 404);
    return true;
  });
});

test("fallback workflow, next workflow and cancel", async () => {
  const verify = client();
  const to = "447700900002";
  const { requestId } = await verify.newRequest({
    brand: "verifykit",
    locale: "en-gb",
    channelTimeout: 60,
    codeLength: 6,
    clientRef: "recipe",
    workflow: [{ channel: "sms", to }, { channel: "voice", to }],
  });
  assert.equal(await verify.nextWorkflow(requestId), true);
  const msgs = await outbox(to);
  assert.deepEqual(msgs.map((m) => m.channel), ["sms", "voice"]);
  assert.equal(msgs[0].code.length, 6);
  // Each step sends a new code (reuse_code is false by default), as Vonage does.
  assert.equal(msgs[1].code.length, 6);
  assert.equal(msgs[0].locale, "en-gb");
  // No step left.
  assert.equal(await verify.nextWorkflow(requestId), false);

  assert.equal(await verify.cancel(requestId), true);
  assert.equal(await verify.cancel(requestId), false);
  await assert.rejects(verify.checkCode(requestId, msgs[0].code), (err) => err.response.status === 404);
});

test("a JWT signed by another key is refused", async () => {
  const { generateKeyPairSync } = await import("node:crypto");
  const { privateKey: other } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const verify = client(other.export({ type: "pkcs8", format: "pem" }));
  await assert.rejects(verify.newRequest({ brand: "verifykit", workflow: [{ channel: "sms", to: "447700900003" }] }), (err) => {
    assert.equal(err.response.status, 401);
    return true;
  });
});

async function control(method, path, body) {
  const headers = { Authorization: CONTROL_AUTH };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(`${base}/_emulator/${path}`, { method, headers, body: body && JSON.stringify(body) });
  assert.ok(res.ok, `${method} ${path}: ${res.status}`);
}

test("injected failures and expiry reach the SDK as Vonage's would", async () => {
  const verify = client();
  const to = "447700900004";
  await control("POST", "faults", { op: "start", status: 503 });
  await assert.rejects(verify.newRequest({ brand: "verifykit", workflow: [{ channel: "sms", to }] }), (err) => {
    assert.equal(err.response.status, 503);
    return true;
  });
  const { requestId } = await verify.newRequest({ brand: "verifykit", workflow: [{ channel: "sms", to }] });
  const [msg] = await outbox(to);
  await control("POST", "clock?advance=181s"); // past the 180 s default channel timeout
  await assert.rejects(verify.checkCode(requestId, msg.code), (err) => err.response.status === 404);
});

test("templates and their fragments", async () => {
  const verify = client();
  const login = await verify.createTemplate({ name: "recipe-login" });
  assert.equal(login.name, "recipe-login");
  assert.match(login.templateId, /^[0-9a-f-]{36}$/);
  const other = await verify.createTemplate({ name: "recipe-other" });
  const names = [];
  for await (const t of verify.listAllTemplates({ pageSize: 1 })) names.push(t.name);
  assert.ok(names.includes("recipe-login") && names.includes("recipe-other"), names.join(","));
  const renamed = await verify.updateTemplate({ templateId: other.templateId, name: "recipe-renamed", isDefault: true });
  assert.equal(renamed.name, "recipe-renamed");
  assert.equal(renamed.isDefault, true);

  const fragment = await verify.createTemplateFragment(login.templateId, { channel: "sms", locale: "en-us", text: "Your ${brand} code: ${code}" });
  assert.equal(fragment.channel, "sms");
  const updated = await verify.updateTemplateFragment(login.templateId, { templateFragmentId: fragment.templateFragmentId, text: "Code ${code}" });
  assert.equal(updated.text, "Code ${code}");
  const fetched = await verify.getTemplateFragment(login.templateId, fragment.templateFragmentId);
  assert.equal(fetched.text, "Code ${code}");
  const fragments = [];
  for await (const f of verify.listAllTemplateFragments({ templateId: login.templateId })) fragments.push(f.templateFragmentId);
  assert.deepEqual(fragments, [fragment.templateFragmentId]);
  // A template with fragments cannot be deleted.
  await assert.rejects(verify.deleteTemplate(login.templateId), (err) => err.response.status === 409);
  assert.equal(await verify.deleteTemplateFragment(login.templateId, fragment.templateFragmentId), true);
  assert.equal(await verify.deleteTemplate(login.templateId), true);
  await assert.rejects(verify.getTemplate(login.templateId), (err) => err.response.status === 404);
});
