package fakeconf

import (
	"crypto/rand"
	"encoding/binary"
	"sync/atomic"

	"github.com/verifykit/verifykit/internal/engine"
	"github.com/verifykit/verifykit/store"
)

// Gen makes the codes of a fake (or of an emulator's service) and the
// random bytes of its IDs, from its Config: seeded, the same calls in the
// same order give the same codes and IDs, without a lock.
type Gen struct {
	Salt   uint64 // the random part of IDs (Config.Salt)
	source Source
	seed   uint64
	fixed  string
	codes  atomic.Uint64 // codes generated, for the seeded generator
	ids    atomic.Uint64 // nonces and attempt IDs generated, likewise
}

// NewGen returns the generator of c.
func (c *Config) NewGen() *Gen {
	return &Gen{Salt: c.Salt(), source: c.Source, seed: c.Seed, fixed: c.FixedCode}
}

// Name is a target's name in the engine's keys and IDs: 64 bits of a hash
// keyed by the salt, so two generators give one target different IDs.
func (g *Gen) Name(to string) (b [16]byte) {
	binary.BigEndian.PutUint64(b[:], Splitmix(FNV(to)^g.Salt))
	return b
}

// FNV returns the 64-bit FNV-1a hash of s.
func FNV(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := range len(s) {
		h = (h ^ uint64(s[i])) * 1099511628211
	}
	return h
}

// Random fills b with bytes that follow from the salt and from how many
// were drawn before: each 8 bytes of b (or fewer, at its end) take one
// count, all of them reserved at once.
func (g *Gen) Random(b []byte) {
	n := uint64(len(b)+7) / 8
	next := g.ids.Add(n) - n
	for i := 0; i < len(b); i += 8 {
		next++
		var w [8]byte
		binary.BigEndian.PutUint64(w[:], Splitmix(g.Salt+next*0x9e3779b97f4a7c15))
		copy(b[i:], w[:])
	}
}

// Code returns a fresh code of n digits (the fixed code, for Fixed).
func (g *Gen) Code(n int) string {
	switch g.source {
	case Fixed:
		return g.fixed
	case Crypto:
		return CryptoDigits(n)
	}
	x := Splitmix(g.seed + g.codes.Add(1)*0x9e3779b97f4a7c15)
	var b [10]byte
	for i := range n { // 10 digits use 34 bits of x's 64
		b[i] = '0' + byte(x%10)
		x /= 10
	}
	return string(b[:n])
}

// CryptoDigits returns n uniformly random decimal digits from crypto/rand.
func CryptoDigits(n int) string {
	out := make([]byte, 0, n)
	var buf [16]byte
	for len(out) < n {
		_, _ = rand.Read(buf[:])
		for _, c := range buf {
			if c < 250 && len(out) < n { // 250 = 25*10: reject to stay uniform
				out = append(out, '0'+c%10)
			}
		}
	}
	return string(out)
}

// NonceLen is the nonce length of the engine's configuration (Engine), for
// a layer that reads its records with engine.Split.
const NonceLen = 8

// Engine returns the verification engine's configuration of c over st,
// with g's names, codes (of c.CodeLength digits) and, unless the codes
// come from crypto/rand, its IDs.
func (c *Config) Engine(st store.Store, g *Gen) engine.Config {
	n := c.CodeLength
	ec := engine.Config{
		Store: st, Now: c.Now, Validity: c.Validity,
		MaxSends: c.MaxSends, MaxChecks: c.MaxChecks,
		IDPrefix: c.IDPrefix, AttemptPrefix: c.AttemptPrefix,
		Name: g.Name, NameLen: 8, NonceLen: NonceLen, NewCode: func() string { return g.Code(n) },
	}
	if c.Source != Crypto {
		ec.Random = g.Random
	}
	return ec
}
