// Package fakeconf is the fake's configuration as a struct, which the
// fake's options and the twiliotest emulator's options write, and what
// both build from it: the engine's configuration with the fake's code
// generator (Gen: seeded codes and IDs), the factor engine with the fake's
// rules, and the magic numbers' refusals. So the emulator runs the fake's
// rules on the engine without importing the fake.
//
// Imports: fake and twiliotest → fakeconf → engine, totp, store, provider.
package fakeconf

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/verifykit/verifykit/internal/engine"
	"github.com/verifykit/verifykit/internal/totp"
	"github.com/verifykit/verifykit/provider"
)

// Source is where a fake's codes come from.
type Source int

// The sources of codes.
const (
	Seeded Source = iota // a generator seeded with Seed
	Fixed                // FixedCode, always
	Crypto               // crypto/rand
)

// DefaultSeed is the seed of a fake whose options pick no other source.
const DefaultSeed uint64 = 0x5eed

// The factor defaults.
const (
	DefaultFactorMaxChecks   = 5
	DefaultFactorCheckWindow = 10 * time.Minute
)

// Config is what a fake's options set. See the options for each field.
type Config struct {
	Now          func() time.Time
	Validity     time.Duration
	MaxSends     int
	MaxChecks    int
	CodeLength   int
	Source       Source
	Seed         uint64
	FixedCode    string
	CustomCodes  bool
	FriendlyName string
	OutboxLimit  int
	// OnSend and OnFactor are the fake's hooks, typed by the fake.
	OnSend, OnFactor any

	IDPrefix, AttemptPrefix string    // verification and attempt IDs
	FactorPrefixes          [3]string // entity, factor, challenge IDs

	FactorMaxWrong int
	FactorWindow   time.Duration
	FactorIssuer   string // empty: FriendlyName

	SNABaseURL string // where the fake's SNA URLs point

	// PushAccount is the account push devices sign for (empty: one made
	// from the salt); PushNotify delivers push notifications (nil: they
	// are only reported as factor events).
	PushAccount string
	PushNotify  func(context.Context, provider.PushNotification) error
	// PushIncludeDate, when not nil, says whether push challenges' details
	// carry their creation date (engine.PushConfig.IncludeDate).
	PushIncludeDate func() bool
}

// Default returns the fake's defaults: Twilio Verify's rules.
func Default() Config {
	return Config{
		Now: time.Now, Validity: 10 * time.Minute, MaxSends: 5, MaxChecks: 5, CodeLength: 6,
		Source: Seeded, Seed: DefaultSeed, FriendlyName: "verifykit", OutboxLimit: 1000,
		FactorMaxWrong: DefaultFactorMaxChecks, FactorWindow: DefaultFactorCheckWindow,
	}
}

// Splitmix is the SplitMix64 finaliser: a bijection of uint64 that mixes
// every input bit into every output bit.
func Splitmix(x uint64) uint64 {
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// Salt returns the random part of a fake's IDs: from the seed, or from
// crypto/rand for Crypto.
func (c *Config) Salt() uint64 {
	if c.Source == Crypto {
		var b [8]byte
		_, _ = rand.Read(b[:]) // never fails on supported platforms
		return binary.BigEndian.Uint64(b[:])
	}
	return Splitmix(c.Seed ^ 0x9e3779b97f4a7c15)
}

// Factors returns a factor engine with c's rules, IDs from salt, secrets
// from the seed (the same calls give the same secrets) or crypto/rand, the
// hook and the event callback on.
func (c *Config) Factors(salt uint64, hook func(context.Context, string, string) (error, error), on func(context.Context, engine.FactorEvent)) *engine.Factors {
	var secrets atomic.Uint64
	source, seed := c.Source, c.Seed
	issuer := c.FactorIssuer
	if issuer == "" {
		issuer = c.FriendlyName
	}
	account := c.PushAccount
	if account == "" {
		account = fmt.Sprintf("AC%016x%016x", salt, Splitmix(salt))
	}
	return engine.NewFactors(engine.FactorConfig{
		Now: c.Now, MaxWrong: c.FactorMaxWrong, Window: c.FactorWindow, Issuer: issuer,
		Prefixes: c.FactorPrefixes, Salt: salt, Hook: hook, OnEvent: on,
		Push: engine.PushConfig{Account: account, TokenPrefix: "YK", CredentialPrefix: "CR", NotificationPrefix: "NT", Notify: c.PushNotify, IncludeDate: c.PushIncludeDate},
		NewSecret: func() []byte {
			b := make([]byte, totp.SecretSize)
			if source == Crypto {
				_, _ = rand.Read(b)
				return b
			}
			x := Splitmix(seed ^ 0x7f4a7c159e3779b9 + secrets.Add(1)*0x9e3779b97f4a7c15)
			for i := range b {
				if i%8 == 0 && i > 0 {
					x = Splitmix(x)
				}
				b[i] = byte(x >> (8 * (i % 8)))
			}
			return b
		},
	})
}
