package totp

import (
	"time"

	"github.com/verifykit/verifykit/provider"
)

// The configuration the fake and the self-hosted provider give a factor
// whose EnrollRequest leaves a field zero: what every authenticator app
// supports (6 digits, 30 s steps, SHA-1), and one step of skew unless the
// request sets EnrollRequest.SkewSet. Each of them documents these as its
// own defaults; the provider package has none.
const (
	defaultDigits    = 6
	defaultPeriod    = 30 * time.Second
	defaultSkew      = 1
	defaultAlgorithm = provider.AlgSHA1
)

// Fill returns c with its zero Digits, Period and Algorithm set to the
// defaults, and a zero Skew set to defaultSkew unless skewSet says the
// zero was chosen.
func Fill(c provider.TOTPConfig, skewSet bool) provider.TOTPConfig {
	if c.Digits == 0 {
		c.Digits = defaultDigits
	}
	if c.Period == 0 {
		c.Period = defaultPeriod
	}
	if c.Algorithm == "" {
		c.Algorithm = defaultAlgorithm
	}
	if c.Skew == 0 && !skewSet {
		c.Skew = defaultSkew
	}
	return c
}
