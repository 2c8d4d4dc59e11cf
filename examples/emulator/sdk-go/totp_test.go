package sdkgo

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	verifyv2 "github.com/twilio/twilio-go/rest/verify/v2"
	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/twilio/twiliotest"
)

// totpCode is RFC 6238 (SHA-1, 6 digits, 30 s), as an authenticator app
// computes it.
func totpCode(secret string, at time.Time) string {
	key, _ := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
	mac := hmac.New(sha1.New, key)
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(at.Unix()/30))
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0xf
	return fmt.Sprintf("%06d", (binary.BigEndian.Uint32(sum[off:])&0x7fffffff)%1_000_000)
}

// TestTwilioGoTOTPAgainstEmulator enrols and checks a TOTP factor with the
// official SDK (CreateNewFactor, UpdateFactor with AuthPayload,
// CreateChallenge with AuthPayload) against the emulator.
func TestTwilioGoTOTPAgainstEmulator(t *testing.T) {
	clock := fake.NewClock(time.Date(2026, 3, 1, 12, 0, 7, 0, time.UTC))
	srv := twiliotest.NewServer(twiliotest.WithClock(clock.Now))
	defer srv.Close()
	rc, err := NewRestClient(srv.URL, twiliotest.DefaultAccountSID, twiliotest.DefaultAuthToken)
	if err != nil {
		t.Fatal(err)
	}
	const svc, identity = twiliotest.DefaultServiceSID, "ff483d1ff591898a9942916050d2ca3f"
	nf, err := rc.VerifyV2.CreateNewFactor(svc, identity, (&verifyv2.CreateNewFactorParams{}).
		SetFactorType("totp").SetFriendlyName("Taylor's account").
		SetConfigTimeStep(30).SetConfigSkew(1).SetConfigCodeLength(6).SetConfigAlg("sha1"))
	if err != nil {
		t.Fatal(err)
	}
	binding, _ := (*nf.Binding).(map[string]interface{})
	secret, _ := binding["secret"].(string)
	if *nf.Status != "unverified" || secret == "" || nf.Sid == nil {
		t.Fatalf("new factor: status %v, secret present %v", *nf.Status, secret != "")
	}
	f, err := rc.VerifyV2.UpdateFactor(svc, identity, *nf.Sid, (&verifyv2.UpdateFactorParams{}).SetAuthPayload(totpCode(secret, clock.Now())))
	if err != nil || *f.Status != "verified" {
		t.Fatalf("verify factor: %v, %v", f, err)
	}
	clock.Advance(30 * time.Second)
	ch, err := rc.VerifyV2.CreateChallenge(svc, identity, (&verifyv2.CreateChallengeParams{}).
		SetFactorSid(*nf.Sid).SetAuthPayload(totpCode(secret, clock.Now())))
	if err != nil || *ch.Status != "approved" {
		t.Fatalf("challenge: %v, %v", ch, err)
	}
	again, err := rc.VerifyV2.CreateChallenge(svc, identity, (&verifyv2.CreateChallengeParams{}).
		SetFactorSid(*nf.Sid).SetAuthPayload(totpCode(secret, clock.Now())))
	if err != nil || *again.Status != "pending" {
		t.Fatalf("replayed code: %v, %v", again, err)
	}
	list, err := rc.VerifyV2.ListFactor(svc, identity, nil)
	if err != nil || len(list) != 1 || list[0].Sid == nil || *list[0].Sid != *nf.Sid {
		t.Fatalf("list factors: %v, %v", list, err)
	}
	if err := rc.VerifyV2.DeleteEntity(svc, identity); err != nil {
		t.Fatal(err)
	}
}
