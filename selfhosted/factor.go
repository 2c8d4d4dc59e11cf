package selfhosted

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/verifykit/verifykit/internal/engine"
	"github.com/verifykit/verifykit/internal/totp"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/store"
)

var _ provider.FactorProvider = (*Provider)(nil)

// keptChallenges is how many of an identity's latest challenges
// FetchChallenge can return.
const keptChallenges = 20

// WithFactorLimits sets how many wrong codes a factor accepts in a window
// (from the first wrong code) before every code, right or wrong, fails
// with ErrTooManyChecks until the window ends: 1 to 20, and 1 minute to 24
// hours. The default is 5 in 10 minutes. A push factor's wrong or
// replayed signatures count the same way.
func WithFactorLimits(maxWrong int, window time.Duration) Option {
	return func(p *Provider) error {
		if maxWrong < 1 || maxWrong > 20 || window < time.Minute || window > 24*time.Hour {
			return errors.New("selfhosted: WithFactorLimits: want 1 to 20 wrong codes in 1m to 24h")
		}
		p.factorMaxWrong, p.factorWindow = maxWrong, window
		return nil
	}
}

// factorHead is what the engine keeps of an identity's envelope between
// reading and writing its record (see sealedFactors): lineage (16), seq
// (8), spent (8).
const factorHead = 32

// newFactors returns the factor engine over the sealed store: an
// identity's factors are one sealed record, the engine's rules decide.
func (p *Provider) newFactors() *engine.Factors {
	return engine.NewFactors(engine.FactorConfig{
		Now: p.now, MaxWrong: p.factorMaxWrong, Window: p.factorWindow, Issuer: p.appName,
		Prefixes: [3]string{"YE", "YF", "YC"},
		NewSecret: func() []byte {
			b := make([]byte, totp.SecretSize)
			_, _ = rand.Read(b)
			return b
		},
		Store: &engine.FactorStore{
			Store: sealedFactors{Store: p.st, p: p}, Key: p.factorKey, Head: factorHead,
			TombstoneTTL: tombstoneTTL, ChallengesKept: keptChallenges,
		},
		Push: engine.PushConfig{
			Account: pushAccount, TokenPrefix: "YK", CredentialPrefix: "YR", NotificationPrefix: "YN",
			Notify: p.notify, Leeway: pushLeeway,
		},
	})
}

// factorKey names an identity's record (a keyed hash of the identity) or
// an access token's (the SHA-256 of the token) in the store.
func (p *Provider) factorKey(ctx context.Context, kind byte, name string) (string, error) {
	if err := p.ensureKey(ctx, OpFactor); err != nil {
		return "", err
	}
	if kind == engine.KeyToken {
		return p.prefix + "t:" + name, nil
	}
	var b [16]byte
	return p.prefix + "e:" + hex.EncodeToString(p.names.Load().name(b[:0], 'e', name)), nil
}

// factorFail turns an engine, sealing or store error into the provider's.
func factorFail(op Op, err error) error {
	if err == nil {
		return nil // before ee and e, which escape
	}
	var ee *engine.Error
	var e *Error
	switch {
	case errors.As(err, &ee):
		return &Error{Op: op, Kind: ee.Kind, Wait: ee.Wait, msg: ee.Msg, date: ee.Date}
	case errors.As(err, &e) && e.Op == "":
		c := *e
		c.Op = op
		return &c
	}
	return failure(op, err)
}

// EnrollFactor creates a TOTP factor. The secret is generated from
// crypto/rand (or taken from req.Secret), stored sealed, and returned this
// once with its otpauth URI. Zero fields of req.TOTP mean this provider's
// defaults: 6 digits, 30 s steps, SHA-1 and a skew of one step (unless
// req.SkewSet keeps a skew of 0). A push factor is created by its device
// (see Device).
func (p *Provider) EnrollFactor(ctx context.Context, req provider.EnrollRequest) (provider.Enrollment, error) {
	out, err := p.factors.EnrollFactor(ctx, req)
	return out, factorFail(OpEnroll, err)
}

// ConfirmFactor verifies an unverified factor with its first code.
func (p *Provider) ConfirmFactor(ctx context.Context, req provider.ConfirmRequest) (provider.Factor, error) {
	if req.Code == "" {
		return provider.Factor{}, newErr(OpConfirm, provider.ErrInvalidRequest, "malformed code")
	}
	out, err := p.factors.UpdateFactor(ctx, req.Identity, req.FactorID, engine.FactorUpdate{Code: req.Code})
	return out, factorFail(OpConfirm, err)
}

// ChallengeFactor checks a code of a verified factor. A code approves at
// most once: the factor's last accepted time step is updated in the same
// compare-and-swap that approves, so of concurrent challenges with one
// code, on any replicas, exactly one is approved.
func (p *Provider) ChallengeFactor(ctx context.Context, req provider.ChallengeRequest) (provider.Challenge, error) {
	if req.Code == "" {
		return provider.Challenge{}, newErr(OpChallenge, provider.ErrInvalidRequest, "malformed code")
	}
	out, err := p.factors.ChallengeFactor(ctx, req)
	return out, factorFail(OpChallenge, err)
}

// FetchChallenge returns one of the identity's latest challenges.
func (p *Provider) FetchChallenge(ctx context.Context, identity, challengeID string) (provider.Challenge, error) {
	out, err := p.factors.FetchChallenge(ctx, identity, challengeID)
	return out, factorFail(OpFactor, err)
}

// FetchFactor returns a factor without its secret.
func (p *Provider) FetchFactor(ctx context.Context, identity, factorID string) (provider.Factor, error) {
	out, err := p.factors.FetchFactor(ctx, identity, factorID)
	return out, factorFail(OpFactor, err)
}

// ListFactors returns the identity's factors, oldest first, without
// secrets.
func (p *Provider) ListFactors(ctx context.Context, identity string) ([]provider.Factor, error) {
	out, err := p.factors.ListFactors(ctx, identity)
	return out, factorFail(OpFactor, err)
}

// DeleteFactor deletes a factor; its codes no longer work.
func (p *Provider) DeleteFactor(ctx context.Context, identity, factorID string) error {
	return factorFail(OpDelete, p.factors.DeleteFactor(ctx, identity, factorID))
}

// DeleteIdentity deletes the identity with all its factors and challenges.
// Its record is emptied rather than deleted (the empty record expires
// after 400 days), so that every replica can tell a deletion from a loss.
func (p *Provider) DeleteIdentity(ctx context.Context, identity string) error {
	return factorFail(OpDelete, p.factors.DeleteIdentity(ctx, identity))
}

// Rekey seals an identity's record again under the primary key, and the
// store's name key with it (see WithOlderKeys). Run it over every identity
// once every replica has the new key as primary, before dropping the older
// key. An identity without a record gives ErrNotFound.
func (p *Provider) Rekey(ctx context.Context, identity string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !provider.ValidIdentity(identity) {
		return newErr(OpFactor, provider.ErrInvalidRequest, "malformed identity")
	}
	if err := p.ensureKey(ctx, OpFactor); err != nil {
		return err
	}
	if err := p.rekeyNames(ctx, OpFactor); err != nil {
		return err
	}
	key, err := p.factorKey(ctx, engine.KeyIdentity, identity)
	if err != nil {
		return err
	}
	st := sealedFactors{Store: p.st, p: p}
	r, err := st.Get(ctx, key)
	for {
		switch {
		case err != nil:
			return factorFail(OpFactor, err)
		case !r.Found() || len(r.Value) == factorHead:
			return newErr(OpFactor, provider.ErrNotFound, "no such identity")
		}
		// The same record, sealed again under the primary key.
		if _, err = st.CompareAndSwap(ctx, key, r.Version, r.Value, store.NoExpiry); !errors.Is(err, store.ErrConflict) {
			return factorFail(OpFactor, err)
		}
		r, err = st.Get(ctx, key)
	}
}

// sealedFactors is the store the factor engine keeps identities in: a
// decorator of the application's store that seals every record (see
// envelope), padded to whole KiB (identitySize), and refuses one older
// than one this replica has seen, or missing when it has seen it (see
// openRecord). The engine's record is the envelope's payload; the
// envelope's lineage, seq and spent count travel in the first factorHead
// bytes of the records it reads and writes, so that a write continues the
// lineage it read.
//
// An access token's record (key prefix "t:") expires with the token: it
// is opened as a verification's is, without the memory of stable ones.
type sealedFactors struct {
	store.Store // the application's store
	p           *Provider
}

func (s sealedFactors) stable(key string) bool {
	return !strings.HasPrefix(key, s.p.prefix+"t:")
}

// Get opens the record at key.
func (s sealedFactors) Get(ctx context.Context, key string) (store.Record, error) {
	return s.p.getOpen(ctx, s.Store, key, s.open)
}

func (s sealedFactors) open(key string, r store.Record, tk uint64) (store.Record, error) {
	env, err := s.p.openRecord("", key, r, s.stable(key), tk)
	if err != nil || env == nil {
		return store.Record{}, err
	}
	var h [factorHead]byte
	copy(h[:], env.lineage[:])
	binary.BigEndian.PutUint64(h[16:], env.seq)
	binary.BigEndian.PutUint64(h[24:], env.spent)
	// The head goes where the envelope's fields were, just before the
	// payload in the opened record: no copy of the payload.
	if off := cap(env.plain) - cap(env.payload); off >= factorHead {
		v := env.plain[off-factorHead : off+len(env.payload)]
		copy(v, h[:])
		return store.Record{Value: v, Version: r.Version}, nil
	}
	return store.Record{Value: append(append(make([]byte, 0, factorHead+len(env.payload)), h[:]...), env.payload...), Version: r.Version}, nil
}

// CompareAndSwap seals value (after its head) in the envelope that
// follows the one its head names, and swaps it in.
func (s sealedFactors) CompareAndSwap(ctx context.Context, key string, old uint64, value []byte, ttl time.Duration) (store.Record, error) {
	if len(value) < factorHead {
		return store.Record{}, errRecord
	}
	var env envelope
	if old == 0 {
		env = (*envelope)(nil).next()
	} else {
		var prev envelope
		copy(prev.lineage[:], value[:16])
		prev.seq = binary.BigEndian.Uint64(value[16:])
		prev.spent = binary.BigEndian.Uint64(value[24:])
		env = prev.next()
	}
	env.key = s.p.keys.primary
	payload := value[factorHead:]
	size := identitySize(len(payload))
	stable := s.stable(key)
	if !stable {
		env.expires = s.p.now().Add(ttl)
		size = 256
	}
	tk := s.p.recall.ticket()
	cur, err := swapSealed(ctx, s.Store, key, old, env, payload, size, ttl)
	if err == nil {
		s.p.wrote(key, env, stable, cur.Version)
		return store.Record{Version: cur.Version}, nil
	}
	return conflict(key, cur, tk, err, s.open)
}

// identitySize is the sealed size of an identity's record whose payload is
// n bytes: 2 KiB (room for six TOTP factors and all kept challenges), then
// whole KiB, so a dump tells little about an identity's factors and
// challenges.
func identitySize(n int) int { return max(2048, (n+128+1023)/1024*1024) }
