package verify_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/verifykit/verifykit/internal/mask"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/verify"
)

// FuzzNormalize checks that any input is either refused with
// ErrInvalidRequest or normalised to a form that is stable (normalising it
// again gives the same) and safe to put on the wire.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		"+14155552671", "(415) 555-2671", "+44 20 7183 8750", "00442071838750", "alice@Example.COM",
		"a@b@c", "Alice <a@example.com>", "\"quoted\"@example.com", "+1415555\x002671", "+1-800-FLOWERS",
		"tel:+1-415-555-2671", "+14155552671&Channel=call", "ü@example.com", "",
		"a\xff@example.com", "a@exa\xffmple.com", "\xc3@example.com", "a.@example.com",
	} {
		f.Add(s)
	}
	c, err := verify.New(&nopProvider{}, verify.WithDefaultRegion("US"))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := c.Normalize(s)
		if err != nil {
			if !errors.Is(err, verify.ErrInvalidRequest) {
				t.Fatalf("Normalize(%q): error %v is not ErrInvalidRequest", s, err)
			}
			// The masking promise: the local part of an address and the
			// middle of anything else stay hidden. (A domain is shown.)
			hidden, msg := strings.TrimSpace(s), err.Error()
			if at := strings.LastIndexByte(hidden, '@'); at >= 0 {
				m := mask.Target(hidden)
				msg = strings.ReplaceAll(msg, m[strings.LastIndexByte(m, '@'):], "@")
				hidden = hidden[:at]
			}
			if len(hidden)-strings.Count(hidden, "*") > 6 && strings.Contains(msg, hidden) {
				t.Fatalf("Normalize(%q): error %q reveals %q", s, err, hidden)
			}
			return
		}
		if !utf8.ValidString(got) || strings.ContainsAny(got, "\r\n\t\x00 <>") {
			t.Fatalf("Normalize(%q) = %q, not safe on the wire", s, got)
		}
		// One grammar (issue 10): an accepted address is valid UTF-8 and
		// passes provider.IsEmail, so every provider accepts it too.
		if strings.Contains(got, "@") && (!provider.IsEmail(got) || !provider.ChannelFits(provider.ChannelEmail, got)) {
			t.Fatalf("Normalize(%q) = %q, outside the documented address grammar", s, got)
		}
		if !strings.Contains(got, "@") && (got[0] != '+' || strings.Trim(got[1:], "0123456789") != "") {
			t.Fatalf("Normalize(%q) = %q, not E.164", s, got)
		}
		again, err := c.Normalize(got)
		if err != nil || again != got {
			t.Fatalf("Normalize(Normalize(%q)) = %q, %v, want %q", s, again, err, got)
		}
	})
}

// FuzzCheckCode checks that any typed code is either refused before the
// provider is called, or reaches it as 4 to 10 ASCII letters and digits.
func FuzzCheckCode(f *testing.F) {
	for _, s := range []string{"123456", " 123-456 ", "12\u201334", "", "1234&To=x", "١٢٣٤", strings.Repeat("9", 50)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, code string) {
		p := &nopProvider{}
		c, _ := verify.New(p, verify.WithCodeLength(4, 10))
		_, err := c.Check(context.Background(), "+14155552671", code, nil)
		if err != nil {
			if !errors.Is(err, verify.ErrInvalidRequest) || p.last != nil {
				t.Fatalf("Check(code %q) = %v with provider call %v", code, err, p.last)
			}
			// The message names the masked target; the code must not be
			// anywhere else in it.
			msg := strings.ReplaceAll(err.Error(), "+14*******71", "")
			if len(strings.TrimSpace(code)) >= 4 && strings.Contains(msg, strings.TrimSpace(code)) {
				t.Fatalf("Check(code %q): error %q contains the code", code, err)
			}
			return
		}
		sent := p.last.Code
		if len(sent) < 4 || len(sent) > 10 || strings.Trim(sent, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
			t.Fatalf("Check(code %q) sent %q", code, sent)
		}
	})
}

type nopProvider struct{ last *provider.CheckRequest }

func (p *nopProvider) Capabilities() provider.Capabilities {
	return provider.Capabilities{CheckByTo: true}
}

func (p *nopProvider) Start(context.Context, provider.StartRequest) (provider.Verification, error) {
	return provider.Verification{ID: "VE1", Status: provider.StatusPending}, nil
}

func (p *nopProvider) Check(_ context.Context, req provider.CheckRequest) (provider.Verification, error) {
	p.last = &req
	return provider.Verification{ID: "VE1", Status: provider.StatusPending}, nil
}
