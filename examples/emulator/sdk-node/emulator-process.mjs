// Test support shared by the recipes: builds the emulator program (../)
// and runs it on a free loopback port. Building first and running the
// binary means killing the process stops the server itself (go run would
// stand in between).
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

// The emulator's default credentials and service.
export const ACCOUNT_SID = "AC00000000000000000000000000000000";
export const AUTH_TOKEN = "emulatortoken0000000000000000000";
export const SERVICE_SID = "VA00000000000000000000000000000000";

// startEmulator resolves to { base, stop } once the emulator listens;
// base is its URL, stop kills it.
export async function startEmulator() {
  const dir = fileURLToPath(new URL("..", import.meta.url));
  const bin = join(mkdtempSync(join(tmpdir(), "verifykit-emulator-")), "emulator");
  execFileSync("go", ["build", "-o", bin, "."], { cwd: dir, stdio: "inherit" });
  const proc = spawn(bin, ["-addr", "127.0.0.1:0"], { stdio: ["ignore", "pipe", "inherit"] });
  const base = await new Promise((resolve, reject) => {
    let out = "";
    proc.stdout.on("data", (chunk) => {
      out += chunk;
      const m = out.match(/listening on (http:\/\/\S+)/);
      if (m) resolve(m[1]);
    });
    proc.on("exit", (code) => reject(new Error(`emulator exited with ${code}`)));
  });
  return { base, stop: () => proc.kill("SIGTERM") };
}
