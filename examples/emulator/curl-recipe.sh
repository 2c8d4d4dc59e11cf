#!/usr/bin/env bash
# The curl recipe of README "Testing without Twilio", run for real: start
# the emulator, send a code, read it from the outbox, check a wrong and the
# right code. Exits non-zero if any step does not answer as documented.
set -euo pipefail
cd "$(dirname "$0")"

tmp=$(mktemp -d)
go build -o "$tmp/emulator" .
log=$tmp/log
"$tmp/emulator" -addr 127.0.0.1:0 >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$tmp"' EXIT
for _ in $(seq 1 300); do
	base=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$log")
	[ -n "$base" ] && break
	sleep 0.2
done
[ -n "$base" ] || { cat "$log"; echo "curl recipe: the emulator did not start"; exit 1; }

AC=AC00000000000000000000000000000000
TOKEN=emulatortoken0000000000000000000
VA=VA00000000000000000000000000000000
expect() { # expect WHAT PATTERN TEXT
	if ! tr -d "\n" <<<"$3" | grep -q -- "$2"; then echo "curl recipe: $1: expected $2 in: $3"; exit 1; fi
	echo "ok: $1"
}

# 1. Send a code.
out=$(curl -sS -u "$AC:$TOKEN" "$base/v2/Services/$VA/Verifications" \
	--data-urlencode "To=+14155552671" --data-urlencode "Channel=sms")
expect "start" '"status":"pending"' "$out"

# 2. Read it from the outbox.
code=$(curl -sS -u "$AC:$TOKEN" "$base/_emulator/messages?to=%2B14155552671" | sed -n 's/.*"code":"\([0-9A-Za-z]*\)".*/\1/p')
[ -n "$code" ] || { echo "curl recipe: no code in the outbox"; exit 1; }
echo "ok: outbox has a code"

# 3. A wrong code: still pending (HTTP 200).
out=$(curl -sS -u "$AC:$TOKEN" "$base/v2/Services/$VA/VerificationCheck" \
	--data-urlencode "To=+14155552671" --data-urlencode "Code=00000")
expect "wrong code" '"status":"pending"' "$out"

# 4. The right code: approved.
out=$(curl -sS -u "$AC:$TOKEN" "$base/v2/Services/$VA/VerificationCheck" \
	--data-urlencode "To=+14155552671" --data-urlencode "Code=$code")
expect "right code" '"status":"approved"' "$out"

# 5. Again: the verification is gone (404, Twilio error 20404).
out=$(curl -sS -u "$AC:$TOKEN" -w ' HTTP %{http_code}' "$base/v2/Services/$VA/VerificationCheck" \
	--data-urlencode "To=+14155552671" --data-urlencode "Code=$code")
expect "after approval" '"code":20404.* HTTP 404' "$out"

# 6. Make the next check fail with a 503, as a client's retry test would.
curl -sS -u "$AC:$TOKEN" -H 'Content-Type: application/json' "$base/_emulator/faults" \
	-d '{"op":"check","status":503,"code":20503}'
out=$(curl -sS -u "$AC:$TOKEN" -w ' HTTP %{http_code}' "$base/v2/Services/$VA/VerificationCheck" \
	--data-urlencode "To=+14155552671" --data-urlencode "Code=$code")
expect "injected fault" 'HTTP 503' "$out"

# 7. The outbox needs the credentials too.
out=$(curl -sS -w ' HTTP %{http_code}' "$base/_emulator/messages")
expect "outbox without credentials" '"code":20003.* HTTP 401' "$out"
echo "curl recipe: all steps passed"
