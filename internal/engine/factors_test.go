package engine

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/verifykit/verifykit/internal/totp"
	"github.com/verifykit/verifykit/provider"
)

func newFactors(c *clock) *Factors {
	return NewFactors(FactorConfig{
		Now: c.now, MaxWrong: 5, Window: 10 * time.Minute, Issuer: "verifykit",
		Prefixes: [3]string{"YE", "YF", "YC"}, Salt: 7,
		NewSecret: func() []byte { return make([]byte, totp.SecretSize) },
		Store:     testStore(c.now),
	})
}

// verified enrols and confirms a factor for id.
func verified(t *testing.T, x *Factors, id string) provider.Enrollment {
	t.Helper()
	e, err := x.EnrollFactor(ctx, provider.EnrollRequest{Identity: id, Type: provider.FactorTOTP, FriendlyName: "phone"})
	if err != nil {
		t.Fatal(err)
	}
	code, _ := x.Code(id, e.ID)
	if _, err := x.UpdateFactor(ctx, id, e.ID, FactorUpdate{Code: code}); err != nil {
		t.Fatal(err)
	}
	return e
}

func TestChallengeExpiryAndUpdate(t *testing.T) {
	_, c := newEngine(t, nil)
	x := newFactors(c)
	const id = "user-00000001"
	e := verified(t, x, id)
	c.advance(30 * time.Second)
	ch, err := x.ChallengeFactor(ctx, provider.ChallengeRequest{Identity: id, FactorID: e.ID, Code: "000000"})
	if err != nil || ch.Status != provider.ChallengePending {
		t.Fatalf("wrong code: %v %v", ch, err)
	}
	good, _ := x.Code(id, e.ID)
	if up, err := x.UpdateChallenge(ctx, id, ch.ID, good); err != nil || !up.Approved() || up.RespondedAt.IsZero() {
		t.Fatalf("UpdateChallenge with the right code: %v %v", up, err)
	}
	// A second pending challenge expires after 5 minutes.
	ch2, _ := x.ChallengeFactor(ctx, provider.ChallengeRequest{Identity: id, FactorID: e.ID, Code: "000000"})
	c.advance(defaultChallengeExpiry)
	if got, err := x.FetchChallenge(ctx, id, ch2.ID); err != nil || got.Status != provider.ChallengeExpired {
		t.Fatalf("after expiry: %v %v", got, err)
	}
	// Expired is gone; answered is a request that cannot be honoured.
	var ee *Error
	if _, err := x.UpdateChallenge(ctx, id, ch2.ID, good); !errors.Is(err, provider.ErrNotFound) || !errors.As(err, &ee) || ee.Reason != ReasonChallengeExpired {
		t.Errorf("UpdateChallenge of an expired challenge: %v, want ErrNotFound (challenge_expired)", err)
	}
	if _, err := x.UpdateChallenge(ctx, id, ch.ID, good); !errors.Is(err, provider.ErrInvalidRequest) {
		t.Errorf("UpdateChallenge of an approved challenge: %v, want ErrInvalidRequest", err)
	}
	if list, _ := x.ListChallenges(ctx, id, e.ID, provider.ChallengeApproved); len(list) != 1 || list[0].ID != ch.ID {
		t.Errorf("ListChallenges approved: %v", list)
	}
}

// TestReplayAndWindow: an accepted code's time step approves once, a
// replay is not counted as a guess, and wrong codes lock the factor until
// the window ends.
func TestReplayAndWindow(t *testing.T) {
	_, c := newEngine(t, nil)
	x := newFactors(c)
	const id = "user-00000002"
	e := verified(t, x, id)
	code, _ := x.Code(id, e.ID)
	for range 10 { // replays of the confirming code
		if ch, err := x.ChallengeFactor(ctx, provider.ChallengeRequest{Identity: id, FactorID: e.ID, Code: code}); err != nil || ch.Approved() {
			t.Fatalf("replay: %v %v; want pending", ch, err)
		}
	}
	for range 5 {
		x.ChallengeFactor(ctx, provider.ChallengeRequest{Identity: id, FactorID: e.ID, Code: "000000"})
	}
	c.advance(time.Minute)
	code, _ = x.Code(id, e.ID)
	if _, err := x.ChallengeFactor(ctx, provider.ChallengeRequest{Identity: id, FactorID: e.ID, Code: code}); !errors.Is(err, provider.ErrTooManyChecks) {
		t.Errorf("right code after 5 wrong ones: %v, want ErrTooManyChecks", err)
	}
	c.advance(10 * time.Minute)
	code, _ = x.Code(id, e.ID)
	if ch, err := x.ChallengeFactor(ctx, provider.ChallengeRequest{Identity: id, FactorID: e.ID, Code: code}); err != nil || !ch.Approved() {
		t.Errorf("right code after the window: %v %v", ch, err)
	}
}

func TestEntityBound(t *testing.T) {
	if testing.Short() {
		t.Skip("creates 100,000 entities")
	}
	_, c := newEngine(t, nil)
	x := newFactors(c)
	for i := range maxEntities {
		if _, err := x.CreateEntity(ctx, fmt.Sprintf("user-%08d", i)); err != nil {
			t.Fatal(i, err)
		}
	}
	if _, err := x.CreateEntity(ctx, "one-more-user"); !errors.Is(err, provider.ErrRateLimited) {
		t.Errorf("entity %d: %v, want ErrRateLimited", maxEntities+1, err)
	}
	if _, err := x.EnrollFactor(ctx, provider.EnrollRequest{Identity: "one-more-user", Type: provider.FactorTOTP, FriendlyName: "x"}); !errors.Is(err, provider.ErrRateLimited) {
		t.Errorf("factor for entity %d: %v, want ErrRateLimited", maxEntities+1, err)
	}
	if _, err := x.CreateEntity(ctx, "user-00000007"); err != nil {
		t.Errorf("an existing entity: %v", err)
	}
}

func TestFactorIDPrefixes(t *testing.T) {
	_, c := newEngine(t, nil)
	x := newFactors(c)
	const id = "user-0001-ids"
	e := verified(t, x, id)
	c.advance(30 * time.Second)
	code, _ := x.Code(id, e.ID)
	ch, _ := x.ChallengeFactor(ctx, provider.ChallengeRequest{Identity: id, FactorID: e.ID, Code: code})
	en, _ := x.FetchEntity(ctx, id)
	for id, prefix := range map[string]string{en.ID: "YE", e.ID: "YF", ch.ID: "YC"} {
		if rest, ok := strings.CutPrefix(id, prefix); !ok || len(rest) != 32 || strings.Trim(rest, "0123456789abcdef") != "" {
			t.Errorf("ID %q: want %s and 32 hex digits", id, prefix)
		}
	}
}

// TestFactorUpdate_NoVerbPrintsTheCode: %d or %x of a struct prints its
// fields unless the type has a Format method.
func TestFactorUpdate_NoVerbPrintsTheCode(t *testing.T) {
	const code = "492039"
	u := FactorUpdate{Code: code, FriendlyName: "phone"}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d", "%o"} {
		if s := fmt.Sprintf(verb, u); strings.Contains(s, code) || strings.Contains(s, fmt.Sprintf("%x", code)) {
			t.Errorf("%s prints the code: %s", verb, s)
		}
	}
}
