package vonagetest_test

import (
	"context"
	"errors"
	"testing"

	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/pushdevice"
	"github.com/verifykit/verifykit/verify"
	"github.com/verifykit/verifykit/vonage"
)

// TestSilentAuthThroughVerify runs Vonage's silent auth through the same
// API as Twilio's: Start over ChannelSNA gives the check_url as SNAURL,
// the device helper opens it and gets the code (in the redirect's
// fragment, or in JSON without a redirect_url), and CheckSNA approves with
// it. A wrong code is refused, and a silent-auth step takes one attempt.
func TestSilentAuthThroughVerify(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		redirect string
		wrong    bool
		want     error // nil: approved
	}{
		{name: "JSON answer"},
		{name: "redirect with the code in the fragment", redirect: "https://app.example/done"},
		{name: "wrong code", wrong: true, want: provider.ErrInvalidRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, vc := setup(t)
			c, err := verify.New(vc)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			var opts *verify.StartOptions
			if tc.redirect != "" {
				opts = &verify.StartOptions{Extensions: []verify.Extension{vonage.StartParams{RedirectURL: tc.redirect}}}
			}
			v, err := c.Start(ctx, "+447400123456", verify.ChannelSNA, opts)
			if err != nil || v.SNAURL == "" || v.SNAURL != v.Detail.(*vonage.Response).CheckURL {
				t.Fatalf("Start = %v, %v; want the check_url as SNAURL", v, err)
			}
			res, err := pushdevice.OpenSNA(ctx, hc, v.SNAURL)
			if err != nil || res.Token == "" {
				t.Fatalf("Open = %v, %v; want the code", res, err)
			}
			if _, err := c.CheckSNA(ctx, v.ID, "", nil); !errors.Is(err, verify.ErrInvalidRequest) {
				t.Errorf("CheckSNA without the code = %v, want ErrInvalidRequest", err)
			}
			token := res.Token
			if tc.wrong {
				token = "0000"
				if res.Token == token {
					token = "1111"
				}
			}
			got, err := c.CheckSNA(ctx, v.ID, token, nil)
			if tc.want == nil {
				if err != nil || !got.Approved() {
					t.Fatalf("CheckSNA = %v, %v; want approved", got, err)
				}
				return
			}
			var se *provider.SNAError
			if !errors.Is(err, tc.want) || !errors.As(err, &se) || got.Approved() {
				t.Fatalf("CheckSNA = %v, %v; want an SNAError matching %v", got, err, tc.want)
			}
			if _, err := c.CheckSNA(ctx, v.ID, res.Token, nil); err == nil {
				t.Error("the right code approved after a wrong one: a silent-auth step takes one attempt")
			}
		})
	}
}
