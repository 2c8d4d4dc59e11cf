package sdkgo

import (
	"errors"
	"strings"
	"testing"

	"github.com/twilio/twilio-go/client"
	verifyv2 "github.com/twilio/twilio-go/rest/verify/v2"
	"github.com/verifykit/verifykit/twilio/twiliotest"
)

// TestTwilioGoAgainstEmulator runs the quickstart flow with the official
// SDK against the emulator: start, a wrong code, the right code, and the
// 404 that follows.
func TestTwilioGoAgainstEmulator(t *testing.T) {
	srv := twiliotest.NewServer()
	defer srv.Close()
	rc, err := NewRestClient(srv.URL, twiliotest.DefaultAccountSID, twiliotest.DefaultAuthToken)
	if err != nil {
		t.Fatal(err)
	}
	const to = "+14155552671"
	v, err := rc.VerifyV2.CreateVerification(twiliotest.DefaultServiceSID,
		(&verifyv2.CreateVerificationParams{}).SetTo(to).SetChannel("sms"))
	if err != nil {
		t.Fatal(err)
	}
	if *v.Status != "pending" || v.Sid == nil || v.DateCreated == nil {
		t.Fatalf("created %+v", v)
	}
	code, _ := srv.LastCode(to)

	check := func(code string) (*verifyv2.VerifyV2VerificationCheck, error) {
		return rc.VerifyV2.CreateVerificationCheck(twiliotest.DefaultServiceSID,
			(&verifyv2.CreateVerificationCheckParams{}).SetTo(to).SetCode(code))
	}
	wrong, err := check("000000")
	if err != nil || *wrong.Status != "pending" || *wrong.Valid {
		t.Fatalf("wrong code: %+v, %v", wrong, err)
	}
	right, err := check(code)
	if err != nil || *right.Status != "approved" || !*right.Valid {
		t.Fatalf("right code: %+v, %v", right, err)
	}
	_, err = check(code)
	var rest *client.TwilioRestError
	if !errors.As(err, &rest) || rest.Code != 20404 || rest.Status != 404 {
		t.Fatalf("check after approval: %v, want a TwilioRestError 20404", err)
	}

	// Services admin and pagination through the same rewrite.
	for _, name := range []string{"a", "b", "c"} {
		if _, err := rc.VerifyV2.CreateService((&verifyv2.CreateServiceParams{}).SetFriendlyName(name)); err != nil {
			t.Fatal(err)
		}
	}
	list, err := rc.VerifyV2.ListService((&verifyv2.ListServiceParams{}).SetPageSize(2))
	if err != nil || len(list) != 4 {
		t.Fatalf("ListService: %d services, %v; want 4 over two pages", len(list), err)
	}
	// The next page is on the emulator itself, not on Twilio's host: a
	// client that follows it stays local even without the rewrite.
	page, err := rc.VerifyV2.PageService((&verifyv2.ListServiceParams{}).SetPageSize(2), "", "")
	if err != nil || page.Meta.NextPageUrl == nil || !strings.HasPrefix(*page.Meta.NextPageUrl, srv.URL+"/") {
		t.Fatalf("PageService: next page %v, %v; want a URL on %s", page, err, srv.URL)
	}
}
