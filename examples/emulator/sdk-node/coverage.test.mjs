// Checks that every operation of Twilio's Verify v2 specification is
// called by at least one recipe with an official SDK: each operationId
// names the twilio-node call (in these *.test.mjs) and the twilio-go
// method (in ../sdk-go) that perform it, and each named call must be
// in the sources. The "SDK recipe" column of docs/providers.md follows
// this table.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";

const here = new URL(".", import.meta.url);
const goDir = new URL("../sdk-go/", import.meta.url);
const spec = JSON.parse(readFileSync(new URL("../../../twilio/internal/specserver/testdata/twilio_verify_v2.json", import.meta.url), "utf8"));

const read = (dir, keep) => readdirSync(dir).filter(keep).map((f) => readFileSync(new URL(f, dir), "utf8")).join("\n");
const nodeSrc = read(here, (f) => f.endsWith(".test.mjs") && f !== "coverage.test.mjs");
const goSrc = read(goDir, (f) => f.endsWith(".go"));

const id = String.raw`\([^)]*\)`; // (sid) and the like
const n = (s) => new RegExp(s.replaceAll("(sid)", id));
// operationId: { node: the twilio-node call, go: the twilio-go method }
const calls = {
  CreateAccessToken: { node: n(String.raw`accessTokens\.create\(`) },
  FetchAccessToken: { node: n(String.raw`accessTokens(sid)\.fetch\(`) },
  CreateBucket: { node: n(String.raw`buckets\.create\(`) },
  ListBucket: { node: n(String.raw`buckets\.list\(`) },
  UpdateBucket: { node: n(String.raw`buckets(sid)\.update\(`) },
  FetchBucket: { node: n(String.raw`buckets(sid)\.fetch\(`) },
  DeleteBucket: { node: n(String.raw`buckets(sid)\.remove\(`) },
  CreateChallenge: { node: n(String.raw`challenges\.create\(`), go: "CreateChallenge" },
  ListChallenge: { node: n(String.raw`challenges\.list\(`) },
  UpdateChallenge: { node: n(String.raw`challenges(sid)\.update\(`) },
  FetchChallenge: { node: n(String.raw`challenges(sid)\.fetch\(`) },
  CreateEntity: { node: n(String.raw`entities\.create\(`) },
  ListEntity: { node: n(String.raw`entities\.list\(`) },
  FetchEntity: { node: n(String.raw`entities(sid)\.fetch\(`) },
  DeleteEntity: { node: n(String.raw`entit(y|ies(sid))\.remove\(`), go: "DeleteEntity" },
  UpdateFactor: { node: n(String.raw`factors(sid)\.update\(`), go: "UpdateFactor" },
  FetchFactor: { node: n(String.raw`factors(sid)\.fetch\(`) },
  DeleteFactor: { node: n(String.raw`factors(sid)\.remove\(`) },
  CreateNewFactor: { node: n(String.raw`entit(y|ies(sid))\.newFactors\.create\(`), go: "CreateNewFactor" },
  ListFactor: { node: n(String.raw`factors\.list\(`), go: "ListFactor" },
  FetchForm: { node: n(String.raw`forms(sid)\.fetch\(`), go: "FetchForm" },
  CreateMessagingConfiguration: { node: n(String.raw`messagingConfigurations\.create\(`), go: "CreateMessagingConfiguration" },
  ListMessagingConfiguration: { node: n(String.raw`messagingConfigurations\.list\(`), go: "ListMessagingConfiguration" },
  UpdateMessagingConfiguration: { node: n(String.raw`messagingConfigurations(sid)\.update\(`), go: "UpdateMessagingConfiguration" },
  FetchMessagingConfiguration: { node: n(String.raw`messagingConfigurations(sid)\.fetch\(`), go: "FetchMessagingConfiguration" },
  DeleteMessagingConfiguration: { node: n(String.raw`messagingConfigurations(sid)\.remove\(`), go: "DeleteMessagingConfiguration" },
  CreateNotification: { node: n(String.raw`notifications\.create\(`) },
  CreateRateLimit: { node: n(String.raw`rateLimits\.create\(`) },
  ListRateLimit: { node: n(String.raw`rateLimits\.list\(`) },
  UpdateRateLimit: { node: n(String.raw`rateLimits(sid)\.update\(`) },
  FetchRateLimit: { node: n(String.raw`rateLimits(sid)\.fetch\(`) },
  DeleteRateLimit: { node: n(String.raw`rateLimits(sid)\.remove\(`) },
  CreateSafelist: { node: n(String.raw`safelist\.create\(`) },
  FetchSafelist: { node: n(String.raw`safelist(sid)\.fetch\(`) },
  DeleteSafelist: { node: n(String.raw`safelist(sid)\.remove\(`) },
  CreateService: { node: n(String.raw`services\.create\(`), go: "CreateService" },
  ListService: { node: n(String.raw`services\.(list|page)\(`), go: "ListService" },
  UpdateService: { node: n(String.raw`services(sid)\.update\(`) },
  FetchService: { node: n(String.raw`services(sid)\.fetch\(`) },
  DeleteService: { node: n(String.raw`services(sid)\.remove\(`) },
  CreateVerification: { node: n(String.raw`verifications\.create\(`), go: "CreateVerification" },
  UpdateVerification: { node: n(String.raw`verifications(sid)\.update\(`) },
  FetchVerification: { node: n(String.raw`verifications(sid)\.fetch\(`) },
  ListVerificationAttempt: { node: n(String.raw`verificationAttempts\.list\(`) },
  FetchVerificationAttempt: { node: n(String.raw`verificationAttempts(sid)\.fetch\(`) },
  FetchVerificationAttemptsSummary: { node: n(String.raw`verificationAttemptsSummary\(\)\.fetch\(`) },
  CreateVerificationCheck: { node: n(String.raw`verificationChecks\.create\(`), go: "CreateVerificationCheck" },
  ListVerificationTemplate: { node: n(String.raw`templates\.list\(`), go: "ListVerificationTemplate" },
  CreateWebhook: { node: n(String.raw`webhooks\.create\(`) },
  ListWebhook: { node: n(String.raw`webhooks\.list\(`) },
  UpdateWebhook: { node: n(String.raw`webhooks(sid)\.update\(`) },
  FetchWebhook: { node: n(String.raw`webhooks(sid)\.fetch\(`) },
  DeleteWebhook: { node: n(String.raw`webhooks(sid)\.remove\(`) },
  UpdatePasskeysFactor: { node: n(String.raw`newVerifyFactors\.update\(`), go: "UpdatePasskeysFactor" },
  CreateNewFactorPasskey: { node: n(String.raw`service\.newFactors\.create\(`), go: "CreateNewFactorPasskey" },
  CreateChallengePasskeys: { node: n(String.raw`newChallenge\(\)\.create\(`), go: "CreateChallengePasskeys" },
  UpdateChallengePasskeys: { node: n(String.raw`approveChallenge\.update\(`), go: "UpdateChallengePasskeys" },
};

test("every Verify v2 operation has an SDK recipe step", () => {
  const ops = Object.values(spec.paths).flatMap((p) => Object.values(p)).filter((o) => o?.operationId).map((o) => o.operationId);
  assert.deepEqual(Object.keys(calls).sort(), [...ops].sort(), "the table names exactly the specification's operations");
  const missing = [];
  for (const [op, { node, go }] of Object.entries(calls)) {
    if (node && !node.test(nodeSrc)) missing.push(`${op}: twilio-node ${node}`);
    if (go && !new RegExp(String.raw`\.${go}\(`).test(goSrc)) missing.push(`${op}: twilio-go ${go}`);
  }
  assert.deepEqual(missing, []);
});
