package selfhosted_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/selfhosted"
	"github.com/verifykit/verifykit/store"
)

func TestKeyFromEnv(t *testing.T) {
	secret := strings.Repeat("0123456789abcdef", 4) // 32 bytes
	want, _ := hex.DecodeString(secret)
	tests := []struct {
		name    string
		env     map[string]string
		wantID  string
		wantErr string // a part of the error; "" for none
		noKey   bool   // the error matches ErrNoKey
	}{
		{name: "secret and ID", env: map[string]string{"K": secret, "K_ID": "2026-12"}, wantID: "2026-12"},
		{name: "ID unset: the default", env: map[string]string{"K": secret}, wantID: selfhosted.DefaultKeyID},
		{name: "a line break from a file", env: map[string]string{"K": " " + secret + "\n"}, wantID: selfhosted.DefaultKeyID},
		{name: "upper-case hex", env: map[string]string{"K": strings.ToUpper(secret)}, wantID: selfhosted.DefaultKeyID},
		{name: "unset", env: map[string]string{}, wantErr: "K is not set", noKey: true},
		{name: "blank", env: map[string]string{"K": "  \n"}, wantErr: "K is not set", noKey: true},
		{name: "too short", env: map[string]string{"K": secret[:62]}, wantErr: "at least 32 bytes (64 hex digits), got 31"},
		{name: "odd length", env: map[string]string{"K": secret + "a"}, wantErr: "odd number of hex digits"},
		{name: "not hex", env: map[string]string{"K": "zq" + secret[2:]}, wantErr: "not hexadecimal"},
		{name: "base64, not hex", env: map[string]string{"K": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJj"}, wantErr: "not hexadecimal"},
		{name: "ID too long", env: map[string]string{"K": secret, "K_ID": strings.Repeat("x", 33)}, wantErr: "key ID must be 1 to 32 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := selfhosted.KeyFromEnvFunc(func(name string) string { return tt.env[name] }, "K")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				if got := errors.Is(err, selfhosted.ErrNoKey); got != tt.noKey {
					t.Errorf("errors.Is(err, ErrNoKey) = %v, want %v", got, tt.noKey)
				}
				// No error quotes the secret, nor a character of it.
				if v := strings.TrimSpace(tt.env["K"]); v != "" {
					for _, part := range []string{v, v[:2], "'z'", "'M'", "U+"} {
						if strings.Contains(err.Error(), part) {
							t.Errorf("error %q contains %q from the secret", err, part)
						}
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantID, k.ID); diff != "" {
				t.Errorf("ID (-want +got):\n%s", diff)
			}
			if !bytes.Equal(k.Secret, want) {
				t.Errorf("secret differs from the decoded hex")
			}
		})
	}
}

func TestParseKeyWorksWithNew(t *testing.T) {
	k, err := selfhosted.ParseKey("k1", strings.Repeat("ab", 32))
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.NewMemory()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := selfhosted.New(st, k, selfhosted.WithSender(new(selfhosted.Outbox), provider.ChannelSMS)); err != nil {
		t.Fatalf("New with a parsed key: %v", err)
	}
}

func TestGenerateKey(t *testing.T) {
	a, b := selfhosted.GenerateKey("a"), selfhosted.GenerateKey("a")
	if len(a.Secret) != 32 || a.ID != "a" {
		t.Fatalf("GenerateKey = ID %q, %d bytes; want ID a, 32 bytes", a.ID, len(a.Secret))
	}
	if bytes.Equal(a.Secret, b.Secret) {
		t.Error("two generated keys have the same secret")
	}
}
