// Package totp holds the RFC 6238 (TOTP) and RFC 4226 (HOTP) pieces that the
// fake, the emulator and the verify client share: secrets, code matching
// with replay protection, otpauth key URIs and QR code images.
//
// Key URIs and QR images come from github.com/pquerna/otp. Code matching is
// written here on crypto/hmac so that a check reuses one keyed MAC per
// factor, compares every candidate in constant time, and reports which
// time step matched (which the replay rule needs and pquerna's Validate
// does not say); tests hold it to pquerna's codes and to oathtool's.
package totp

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"hash"
	"image"
	"image/draw"
	"image/png"
	"net/url"
	"strings"
	"time"

	"github.com/pquerna/otp"
	pqtotp "github.com/pquerna/otp/totp"

	"github.com/verifykit/verifykit/provider"
)

// SecretSize is the size in bytes of a generated secret: 160 bits, the
// size RFC 4226 recommends for HMAC-SHA-1 (32 Base32 characters).
const SecretSize = 20

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// EncodeSecret returns b in Base32, upper case, without padding.
func EncodeSecret(b []byte) string { return b32.EncodeToString(b) }

// errSecret is returned for a secret that is not Base32 or is too short.
var errSecret = errors.New("secret must be at least 16 bytes (26 characters) of Base32")

// DecodeSecret decodes a Base32 secret, ignoring case, spaces and padding.
// It refuses secrets of fewer than 16 bytes (128 bits, RFC 4226's minimum)
// and more than 128 bytes.
func DecodeSecret(s string) ([]byte, error) {
	s = strings.ToUpper(strings.TrimRight(strings.ReplaceAll(s, " ", ""), "="))
	b, err := b32.DecodeString(s)
	if err != nil || len(b) < 16 || len(b) > 128 {
		return nil, errSecret
	}
	return b, nil
}

func hashOf(alg provider.Algorithm) func() hash.Hash {
	switch alg {
	case provider.AlgSHA256:
		return sha256.New
	case provider.AlgSHA512:
		return sha512.New
	}
	return sha1.New
}

var pow10 = [...]uint32{1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000}

// Verifier checks codes of one factor. It is not safe for concurrent use:
// the caller holds the factor's lock.
type Verifier struct {
	secret []byte
	mac    hash.Hash
	digits int
	period int64 // seconds
	skew   int64
	sum    [sha512.Size]byte
}

// NewVerifier returns a Verifier for secret with cfg (defaults applied).
func NewVerifier(secret []byte, cfg provider.TOTPConfig) *Verifier {
	cfg = Fill(cfg, true)
	return &Verifier{
		secret: secret,
		mac:    hmac.New(hashOf(cfg.Algorithm), secret),
		digits: cfg.Digits,
		period: int64(cfg.Period / time.Second),
		skew:   int64(cfg.Skew),
	}
}

// Reconfigure returns a Verifier for the same secret with cfg.
func (v *Verifier) Reconfigure(cfg provider.TOTPConfig) *Verifier { return NewVerifier(v.secret, cfg) }

// Step returns the RFC 6238 time step of t.
func (v *Verifier) Step(t time.Time) int64 { return floorDiv(t.Unix(), v.period) }

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// code writes the code of counter into dst (len(dst) == v.digits).
func (v *Verifier) code(dst []byte, counter int64) {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(counter))
	v.mac.Reset()
	v.mac.Write(msg[:])
	sum := v.mac.Sum(v.sum[:0])
	off := sum[len(sum)-1] & 0xf
	n := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	n %= pow10[v.digits]
	for i := v.digits - 1; i >= 0; i-- {
		dst[i] = '0' + byte(n%10)
		n /= 10
	}
}

// Code returns the code of time step counter.
func (v *Verifier) Code(counter int64) string {
	var b [8]byte
	v.code(b[:v.digits], counter)
	return string(b[:v.digits])
}

// Match reports the time step, among those the skew allows around now and
// later than after, whose code is code. used reports that code is the code
// of an allowed step no later than after: a replay of an accepted code,
// not a guess. Every allowed step is computed and compared in constant time
// whatever matches, so the time taken does not depend on the code. A code
// of the wrong length matches nothing.
func (v *Verifier) Match(code string, now time.Time, after int64) (step int64, ok, used bool) {
	if len(code) != v.digits {
		return 0, false, false
	}
	var buf [8]byte
	got := buf[:v.digits]
	t := v.Step(now)
	found := int64(0)
	match, stale := 0, 0
	for s := t - v.skew; s <= t+v.skew; s++ {
		v.code(got, s)
		eq := subtle.ConstantTimeCompare(got, []byte(code))
		fresh := 0
		if s > after {
			fresh = 1
		}
		take := eq & fresh & (match ^ 1)
		found = int64(subtle.ConstantTimeSelect(take, int(s), int(found)))
		match |= take
		stale |= eq & (fresh ^ 1)
	}
	return found, match == 1, match == 0 && stale == 1
}

// URI returns the otpauth://totp/ key URI of a factor, in the Google
// Authenticator key URI format that authenticator apps read.
func URI(issuer, account string, secret []byte, cfg provider.TOTPConfig) (string, error) {
	cfg = Fill(cfg, true)
	if issuer == "" {
		issuer = "verifykit"
	}
	if account == "" {
		account = "account"
	}
	alg := otp.AlgorithmSHA1
	switch cfg.Algorithm {
	case provider.AlgSHA256:
		alg = otp.AlgorithmSHA256
	case provider.AlgSHA512:
		alg = otp.AlgorithmSHA512
	}
	key, err := pqtotp.Generate(pqtotp.GenerateOpts{
		Issuer:      issuer,
		AccountName: account,
		Period:      uint(cfg.Period / time.Second),
		Secret:      secret,
		Digits:      otp.Digits(cfg.Digits),
		Algorithm:   alg,
	})
	if err != nil {
		return "", errors.New("totp: building the key URI failed")
	}
	return key.URL(), nil
}

// errURI is returned by QRPNG for a string that is not an otpauth URI.
var errURI = errors.New("not an otpauth://totp/ URI")

// QRPNG renders uri as a QR code, a size×size PNG image. size is at least
// 64 (smaller sizes are raised to it).
func QRPNG(uri string, size int) ([]byte, error) {
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "otpauth" || u.Host != "totp" {
		return nil, errURI
	}
	return QRPNGOf(uri, size)
}

// QRPNGOf renders any text (a URL, say) as a QR code, a size×size PNG
// image with a quiet zone; size is clamped to 64 to 2048. QRPNG is
// QRPNGOf for otpauth URIs only.
func QRPNGOf(text string, size int) ([]byte, error) {
	size = min(max(size, 64), 2048)
	// otp's Key renders its text as it was given, whatever its scheme.
	key, err := otp.NewKeyFromURL(text)
	if err != nil {
		return nil, errors.New("totp: the text cannot be put in a QR code")
	}
	// A white quiet zone around the code, which scanners need.
	margin := size / 10
	img, err := key.Image(size-2*margin, size-2*margin)
	if err != nil {
		return nil, errors.New("totp: rendering the QR code failed")
	}
	canvas := image.NewGray(image.Rect(0, 0, size, size))
	draw.Draw(canvas, canvas.Bounds(), image.White, image.Point{}, draw.Src)
	draw.Draw(canvas, img.Bounds().Add(image.Pt(margin, margin)), img, img.Bounds().Min, draw.Src)
	var buf bytes.Buffer
	if err := png.Encode(&buf, canvas); err != nil {
		return nil, errors.New("totp: encoding the QR code failed")
	}
	return buf.Bytes(), nil
}

// Guard is the check state of one factor, kept with it: the replay guard
// and the wrong-code window. Every provider that checks TOTP codes itself
// checks them with Guard.Check, so the rules are written once.
type Guard struct {
	LastStep    int64     // the latest time step accepted; -1 before any
	Wrong       int       // wrong codes in the current window
	WindowStart time.Time // the first wrong code of the window
}

// Check checks code with v at now. maxWrong wrong codes within window
// (which starts at the first wrong code; a right code ends it) lock the
// factor: every code, right or wrong, is refused with locked > 0, the time
// until the window ends. A code of a step already accepted (a replay) is
// refused but not counted as a guess, so a double submit cannot lock a user
// out. changed reports whether g changed.
func (g *Guard) Check(v *Verifier, code string, now time.Time, maxWrong int, window time.Duration) (ok, changed bool, locked time.Duration) {
	end := g.WindowStart.Add(window)
	if g.Wrong > 0 && !now.Before(end) {
		g.Wrong, changed = 0, true
	}
	if g.Wrong >= maxWrong {
		return false, changed, end.Sub(now)
	}
	step, ok, used := v.Match(code, now, g.LastStep)
	switch {
	case ok:
		g.LastStep, g.Wrong = step, 0
		return true, true, 0
	case used:
		return false, changed, 0
	}
	if g.Wrong == 0 {
		g.WindowStart = now
	}
	g.Wrong++
	return false, true, 0
}
