package twiliotest

import (
	"sync"

	"github.com/verifykit/verifykit/internal/emuserver"
)

// apiState holds the resources of the account-level and service-level
// APIs beyond verifications and factors: the Safe List (safelist.go),
// rate limits and their buckets (ratelimits.go) and verification attempts
// (attempts.go). Its own lock guards it, never held together with
// Emulator.mu.
type apiState struct {
	mu       sync.Mutex
	seq      uint64
	safeList map[string]string // phone number → GN… SID
	limits   map[string]*rateLimit
	limitSeq []string                // rate limit SIDs in creation order
	attempts emuserver.Ring[attempt] // oldest first, at most WithOutboxLimit
	// msgConfigs: service SID → country (or "all") → configuration
	// (msgconfig.go).
	msgConfigs map[string]map[string]*msgConfig
}

// newSID returns a fresh SID with prefix. s.mu must be held.
func (s *apiState) newSID(prefix string) string {
	s.seq++
	const hex = "0123456789abcdef"
	b := []byte(prefix + "a11a11a11a11a11a")
	for i := 60; i >= 0; i -= 4 {
		b = append(b, hex[(s.seq>>uint(i))&15])
	}
	return string(b)
}
