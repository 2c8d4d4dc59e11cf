package totp

import (
	"testing"
	"time"

	"github.com/verifykit/verifykit/provider"
)

// FuzzDecodeSecret: any input either decodes to 16 to 128 bytes that
// encode back to the same secret, or is refused; nothing panics.
func FuzzDecodeSecret(f *testing.F) {
	f.Add("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
	f.Add("jbsw y3dp ehpk 3pxp jbsw y3dp ehpk 3pxp")
	f.Add("====")
	f.Add("\xff\x00")
	f.Fuzz(func(t *testing.T, s string) {
		b, err := DecodeSecret(s)
		if err != nil {
			return
		}
		if len(b) < 16 || len(b) > 128 {
			t.Fatalf("accepted %d bytes", len(b))
		}
		b2, err := DecodeSecret(EncodeSecret(b))
		if err != nil || string(b2) != string(b) {
			t.Fatal("does not round-trip")
		}
	})
}

// FuzzMatch: a factor's own code always matches once and never after its
// step was used; arbitrary codes never panic and match only when they are
// one of the allowed steps' codes.
func FuzzMatch(f *testing.F) {
	f.Add([]byte("0123456789abcdef"), int64(1_700_000_000), uint8(6), uint8(1), "123456")
	f.Add([]byte("0123456789abcdefghij"), int64(-5), uint8(8), uint8(2), "")
	f.Fuzz(func(t *testing.T, key []byte, unix int64, digits, skew uint8, code string) {
		if len(key) == 0 || unix < 0 || unix > 1<<40 {
			return
		}
		cfg := provider.TOTPConfig{Digits: 3 + int(digits%6), Skew: int(skew % 3), Period: 30 * time.Second}
		v := NewVerifier(key, cfg)
		now := time.Unix(unix, 0)
		step := v.Step(now)
		own := v.Code(step)
		got, ok, _ := v.Match(own, now, -1)
		if !ok || got < step-int64(cfg.Skew) || got > step {
			t.Fatalf("own code: %d %v (step %d)", got, ok, step)
		}
		if _, ok, used := v.Match(own, now, step+int64(cfg.Skew)); ok || !used {
			t.Fatalf("own code after its steps were used: ok %v used %v", ok, used)
		}
		s, ok, _ := v.Match(code, now, -1)
		if ok && v.Code(s) != code {
			t.Fatalf("matched %q at step %d whose code is %s", code, s, v.Code(s))
		}
	})
}
