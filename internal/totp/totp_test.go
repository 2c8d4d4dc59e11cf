package totp

import (
	"bytes"
	"image/png"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	pqtotp "github.com/pquerna/otp/totp"

	"github.com/verifykit/verifykit/provider"
)

// RFC 6238 Appendix B: the test vectors, 8 digits.
func TestVerifier_RFC6238Vectors(t *testing.T) {
	t.Parallel()
	seeds := map[provider.Algorithm]string{
		provider.AlgSHA1:   "12345678901234567890",
		provider.AlgSHA256: "12345678901234567890123456789012",
		provider.AlgSHA512: "1234567890123456789012345678901234567890123456789012345678901234",
	}
	vectors := []struct {
		unix int64
		alg  provider.Algorithm
		want string
	}{
		{59, provider.AlgSHA1, "94287082"}, {59, provider.AlgSHA256, "46119246"}, {59, provider.AlgSHA512, "90693936"},
		{1111111109, provider.AlgSHA1, "07081804"}, {1111111109, provider.AlgSHA256, "68084774"}, {1111111109, provider.AlgSHA512, "25091201"},
		{1234567890, provider.AlgSHA1, "89005924"}, {1234567890, provider.AlgSHA256, "91819424"}, {1234567890, provider.AlgSHA512, "93441116"},
		{20000000000, provider.AlgSHA1, "65353130"}, {20000000000, provider.AlgSHA256, "77737706"}, {20000000000, provider.AlgSHA512, "47863826"},
	}
	for _, v := range vectors {
		ver := NewVerifier([]byte(seeds[v.alg]), provider.TOTPConfig{Digits: 8, Algorithm: v.alg})
		now := time.Unix(v.unix, 0)
		if got := ver.Code(ver.Step(now)); got != v.want {
			t.Errorf("%s at %d: code %s, want %s", v.alg, v.unix, got, v.want)
		}
		if _, ok, _ := ver.Match(v.want, now, -1); !ok {
			t.Errorf("%s at %d: Match refused the right code", v.alg, v.unix)
		}
	}
}

// The codes agree with pquerna/otp's for every length and algorithm.
func TestVerifier_AgreesWithPquerna(t *testing.T) {
	t.Parallel()
	secret := []byte("0123456789abcdefghij")
	enc := EncodeSecret(secret)
	algs := map[provider.Algorithm]otp.Algorithm{provider.AlgSHA1: otp.AlgorithmSHA1, provider.AlgSHA256: otp.AlgorithmSHA256, provider.AlgSHA512: otp.AlgorithmSHA512}
	for alg, palg := range algs {
		for digits := 3; digits <= 8; digits++ {
			for _, period := range []int{20, 30, 60} {
				v := NewVerifier(secret, provider.TOTPConfig{Digits: digits, Period: time.Duration(period) * time.Second, Algorithm: alg})
				for _, unix := range []int64{0, 59, 1700000000, 1700000029, 1999999999} {
					now := time.Unix(unix, 0)
					want, err := pqtotp.GenerateCodeCustom(enc, now, pqtotp.ValidateOpts{Period: uint(period), Digits: otp.Digits(digits), Algorithm: palg})
					if err != nil {
						t.Fatal(err)
					}
					if got := v.Code(v.Step(now)); got != want {
						t.Errorf("%s/%d/%ds at %d: %s, pquerna %s", alg, digits, period, unix, got, want)
					}
				}
			}
		}
	}
}

func TestVerifier_SkewAndReplay(t *testing.T) {
	t.Parallel()
	v := NewVerifier([]byte("0123456789abcdefghij"), provider.TOTPConfig{Skew: 1})
	now := time.Unix(1700000000, 0)
	T := v.Step(now)
	for _, tc := range []struct {
		name  string
		step  int64
		after int64
		ok    bool
	}{
		{"current", T, -1, true},
		{"one before", T - 1, -1, true},
		{"one after", T + 1, -1, true},
		{"two before", T - 2, -1, false},
		{"two after", T + 2, -1, false},
		{"current, already used", T, T, false},
		{"previous, later one used", T - 1, T, false},
		{"next, current used", T + 1, T, true},
	} {
		step, ok, used := v.Match(v.Code(tc.step), now, tc.after)
		if ok != tc.ok || (ok && step != tc.step) {
			t.Errorf("%s: Match = %d, %v; want %d, %v", tc.name, step, ok, tc.step, tc.ok)
		}
		wantUsed := !tc.ok && tc.step <= tc.after && tc.step >= T-1
		if used != wantUsed {
			t.Errorf("%s: used = %v, want %v", tc.name, used, wantUsed)
		}
	}
	if _, ok, _ := v.Match("12345", now, -1); ok {
		t.Error("a code of the wrong length matched")
	}
	v0 := NewVerifier([]byte("0123456789abcdefghij"), provider.TOTPConfig{})
	if _, ok, _ := v0.Match(v0.Code(T-1), now, -1); ok {
		t.Error("skew 0 accepted the previous step")
	}
}

func TestDecodeSecret(t *testing.T) {
	t.Parallel()
	good := EncodeSecret([]byte("0123456789abcdefghij"))
	for _, s := range []string{good, strings.ToLower(good), good[:4] + " " + good[4:], good + "===="} {
		if b, err := DecodeSecret(s); err != nil || string(b) != "0123456789abcdefghij" {
			t.Errorf("DecodeSecret(%q) = %q, %v", s, b, err)
		}
	}
	for _, s := range []string{"", "AAAA", "not base32!", EncodeSecret(make([]byte, 15)), EncodeSecret(make([]byte, 129))} {
		if _, err := DecodeSecret(s); err == nil {
			t.Errorf("DecodeSecret(%q) accepted", s)
		}
	}
}

func TestURIAndQR(t *testing.T) {
	t.Parallel()
	uri, err := URI("Acme Inc", "alice-phone", []byte("0123456789abcdefghij"), provider.TOTPConfig{Digits: 8, Period: 60 * time.Second, Algorithm: provider.AlgSHA256})
	if err != nil {
		t.Fatal(err)
	}
	key, err := otp.NewKeyFromURL(uri)
	if err != nil {
		t.Fatal(err)
	}
	if key.Issuer() != "Acme Inc" || key.AccountName() != "alice-phone" || key.Period() != 60 || key.Digits() != otp.DigitsEight ||
		key.Algorithm() != otp.AlgorithmSHA256 || key.Secret() != EncodeSecret([]byte("0123456789abcdefghij")) {
		t.Errorf("URI %q does not carry the factor's parameters", uri)
	}
	if !strings.HasPrefix(uri, "otpauth://totp/") {
		t.Errorf("URI %q is not otpauth://totp/", uri)
	}
	img, err := QRPNG(uri, 200)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(img))
	if err != nil || cfg.Width != 200 || cfg.Height != 200 {
		t.Errorf("QR PNG: %v, %dx%d", err, cfg.Width, cfg.Height)
	}
	if _, err := QRPNG("https://example.com/", 200); err == nil {
		t.Error("QRPNG accepted a URL that is not otpauth")
	}
}

// oathtool (RFC 6238 reference tool) computes the same codes.
func TestVerifier_Oathtool(t *testing.T) {
	t.Parallel()
	path, err := exec.LookPath("oathtool")
	if err != nil {
		if os.Getenv("OATHTOOL_REQUIRED") == "1" {
			t.Fatal("oathtool not found and OATHTOOL_REQUIRED=1")
		}
		t.Skip("oathtool not installed (apt-get install oathtool); set OATHTOOL_REQUIRED=1 to fail instead")
	}
	secret := []byte("0123456789abcdefghij")
	for _, tc := range []struct {
		cfg  provider.TOTPConfig
		flag string
	}{
		{provider.TOTPConfig{}, "--totp"},
		{provider.TOTPConfig{Digits: 8, Period: 60 * time.Second, Algorithm: provider.AlgSHA256}, "--totp=sha256"},
		{provider.TOTPConfig{Digits: 7, Period: 20 * time.Second, Algorithm: provider.AlgSHA512}, "--totp=sha512"},
	} {
		c := Fill(tc.cfg, true)
		v := NewVerifier(secret, c)
		now := time.Unix(1700000123, 0)
		out, err := exec.Command(path, tc.flag, "-b", "-d", strconv.Itoa(c.Digits),
			"-s", strconv.Itoa(int(c.Period/time.Second))+"s", "-N", now.UTC().Format("2006-01-02 15:04:05 UTC"),
			EncodeSecret(secret)).Output()
		if err != nil {
			t.Fatalf("oathtool: %v", err)
		}
		if got, want := v.Code(v.Step(now)), strings.TrimSpace(string(out)); got != want {
			t.Errorf("%+v: code %s, oathtool %s", c, got, want)
		}
	}
}

// TestGuard: a replay is refused and not counted; maxWrong wrong codes lock
// every code until the window ends; a right code ends the window.
func TestGuard(t *testing.T) {
	v := NewVerifier([]byte("12345678901234567890"), Fill(provider.TOTPConfig{}, false))
	now := time.Unix(1_700_000_000, 0)
	g := Guard{LastStep: -1}
	right := v.Code(v.Step(now))
	if ok, _, locked := g.Check(v, right, now, 2, time.Minute); !ok || locked != 0 {
		t.Fatalf("right code: ok %v, locked %v", ok, locked)
	}
	for range 5 {
		if ok, _, locked := g.Check(v, right, now, 2, time.Minute); ok || locked != 0 || g.Wrong != 0 {
			t.Fatalf("replay: ok %v, locked %v, wrong %d; want refused, not counted", ok, locked, g.Wrong)
		}
	}
	wrong := "000000"
	if wrong == right {
		wrong = "111111"
	}
	g.Check(v, wrong, now, 2, time.Minute)
	g.Check(v, wrong, now, 2, time.Minute)
	later := now.Add(30 * time.Second)
	if ok, _, locked := g.Check(v, v.Code(v.Step(later)), later, 2, time.Minute); ok || locked != 30*time.Second {
		t.Errorf("right code in a locked window: ok %v, locked %v; want refused for 30s", ok, locked)
	}
	after := now.Add(time.Minute)
	if ok, _, locked := g.Check(v, v.Code(v.Step(after)), after, 2, time.Minute); !ok || locked != 0 {
		t.Errorf("right code after the window: ok %v, locked %v", ok, locked)
	}
}
