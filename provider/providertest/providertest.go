// Package providertest is the conformance suite every verification provider
// runs: one named subtest per rule of the provider contract (see the
// provider package documentation), each failure naming the rule it
// enforces. A provider's test runs it in a few lines:
//
//	func TestConformance(t *testing.T) {
//		providertest.Run(t, func(t *testing.T) providertest.Harness {
//			return newHarness(t) // a fresh provider and the means to observe it
//		})
//	}
//
// The suite needs to read the code a provider delivered and to move the
// provider's clock, which only a test double or an emulator can do, so
// providers of real services run it against their emulator.
package providertest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/verifykit/verifykit/provider"
)

// Harness gives the suite a fresh provider and the means to observe it.
type Harness interface {
	// Provider returns the provider under test. Every harness returned by
	// the newHarness function given to Run must have its own state: no
	// verifications, no messages.
	Provider() provider.Provider
	// LastCode returns the code the provider most recently delivered to the
	// target to.
	LastCode(to string) (code string, ok bool)
	// Advance moves the provider's clock forward by d.
	Advance(d time.Duration)
	// ErrorTarget returns a pointer to a variable of the provider's own
	// error type, as the second argument of errors.As, for example
	// new(*fake.Error). The suite checks that errors.As reaches it.
	ErrorTarget() any
}

// Limits are the provider's limits, as the suite expects to observe them.
type Limits struct {
	// Validity is how long a code stays valid.
	Validity time.Duration
	// MaxSends is how many sends one verification allows.
	MaxSends int
	// MaxChecks is how many wrong codes one verification allows.
	MaxChecks int
}

// TwilioLimits returns Twilio Verify's defaults: codes valid for 10
// minutes, 5 sends and 5 wrong checks per verification. The suite uses them
// unless the harness implements LimitsHarness.
func TwilioLimits() Limits { return Limits{Validity: 10 * time.Minute, MaxSends: 5, MaxChecks: 5} }

// LimitsHarness is implemented by harnesses whose provider is configured
// with limits other than TwilioLimits().
type LimitsHarness interface {
	Harness
	Limits() Limits
}

// Rule is one rule of the provider contract, as the suite checks it.
type Rule struct {
	// Name is the subtest's name, such as "WrongCodeIsPending".
	Name string
	// Text states the rule, as printed with each failure.
	Text string

	check func(context.Context, Harness, Limits) error
}

// Rules returns the rules the suite checks, in the order it checks them.
func Rules() []Rule { return append([]Rule(nil), rules...) }

// Run runs the conformance suite: one subtest per rule, each with a fresh
// harness from newHarness. A failure names the rule it enforces.
func Run(t *testing.T, newHarness func(t *testing.T) Harness) {
	t.Helper()
	for _, r := range rules {
		t.Run(r.Name, func(t *testing.T) {
			RunRule(t, r, newHarness(t))
		})
	}
}

// RunRule checks one rule against h, reporting a failure on t. Run calls
// it for every rule; call it directly to run rules in an environment Run
// does not set up, such as a testing/synctest bubble.
func RunRule(t testing.TB, r Rule, h Harness) {
	t.Helper()
	if err := r.run(t.Context(), h); err != nil {
		t.Errorf("%v\nrule: %s", err, r.Text)
	}
}

// run checks the rule against h.
func (r Rule) run(ctx context.Context, h Harness) error {
	lim := TwilioLimits()
	if lh, ok := h.(LimitsHarness); ok {
		lim = lh.Limits()
	}
	return r.check(ctx, h, lim)
}

const (
	phone  = "+14155552671"
	phone2 = "+14155550100"
	email  = "alice@example.com"
)

var rules = []Rule{
	{"StartIsPending", "Start returns a verification with an opaque, non-empty ID and status pending.", checkStartIsPending},
	{"RightCodeApproves", "Check with the right code gives status approved.", checkRightCodeApproves},
	{"CheckByID", "Check may be keyed by the verification's ID instead of To.", checkByID},
	{"WrongCodeIsPending", "Check with a wrong code gives status pending and no error, and the verification can still be approved.", checkWrongCodeIsPending},
	{"RepeatStartReusesVerification", "A second Start to the same To inside the validity window reuses the pending verification and its code, and counts as another send.", checkRepeatStart},
	{"TooManySends", "After the allowed number of sends, the next Start fails with ErrTooManySends.", checkTooManySends},
	{"TooManyChecks", "After the allowed number of wrong codes, the next Check fails with ErrTooManyChecks, even with the right code.", checkTooManyChecks},
	{"ApprovedIsGone", "Once approved, a verification is gone: Check, Fetch and Cancel fail with ErrNotFound.", checkApprovedIsGone},
	{"CanceledIsGone", "Cancel gives status canceled; afterwards the verification is gone (ErrNotFound) and a new Start makes a new one.", checkCanceledIsGone},
	{"ExpiredIsGone", "Once its validity window ends, a verification is gone (ErrNotFound) and a new Start makes a new one.", checkExpiredIsGone},
	{"CheckWithoutStartIsNotFound", "Check for a target with no pending verification fails with ErrNotFound.", checkWithoutStart},
	{"FetchPending", "Fetch of a pending verification returns it, pending, without changing it.", checkFetchPending},
	{"EmailChannel", "Start over the email channel to an e-mail address works like sms to a phone number.", checkEmailChannel},
	{"InvalidTargetIsInvalidRequest", "A malformed To, or a To that does not fit the channel, fails with ErrInvalidRequest before anything is sent.", checkInvalidTarget},
	{"UnknownChannelIsInvalidRequest", "A channel outside sms, call, whatsapp, email, sna and auto fails with ErrInvalidRequest before anything is sent.", checkUnknownChannel},
	{"MalformedCodeIsInvalidRequest", "A code that cannot be a code fails with ErrInvalidRequest and does not count as a wrong code.", checkMalformedCode},
	{"CanceledContext", "A canceled or expired context returns the context's error.", checkCanceledContext},
	{"ConcurrentUse", "A provider is safe for concurrent use (run the suite with -race).", checkConcurrent},
	{"ErrorsAs", "errors.As reaches the provider's own error type.", checkErrorsAs},
}

// wrong returns a code of the same length that differs from code.
func wrong(code string) string {
	b := []byte(code)
	if b[len(b)-1] == '0' {
		b[len(b)-1] = '1'
	} else {
		b[len(b)-1] = '0'
	}
	return string(b)
}

func start(ctx context.Context, h Harness, to string, ch provider.Channel) (provider.Verification, string, error) {
	v, err := h.Provider().Start(ctx, provider.StartRequest{To: to, Channel: ch})
	if err != nil {
		return v, "", fmt.Errorf("Start(%s, %s): unexpected error: %w", to, ch, err)
	}
	code, ok := h.LastCode(to)
	if !ok || code == "" {
		return v, "", fmt.Errorf("Start(%s, %s) succeeded but no code was delivered", to, ch)
	}
	return v, code, nil
}

func wantStatus(op string, v provider.Verification, err error, want provider.Status) error {
	if err != nil {
		return fmt.Errorf("%s: unexpected error: %w", op, err)
	}
	if v.Status != want {
		return fmt.Errorf("%s: status = %q, want %q", op, v.Status, want)
	}
	return nil
}

func wantErr(op string, err, want error) error {
	if !errors.Is(err, want) {
		return fmt.Errorf("%s: error = %v, want one matching %v", op, err, want)
	}
	return nil
}

func checkStartIsPending(ctx context.Context, h Harness, _ Limits) error {
	v, _, err := start(ctx, h, phone, provider.ChannelSMS)
	if err != nil {
		return err
	}
	if v.ID == "" {
		return errors.New("empty verification ID from Start")
	}
	if v.To != phone || v.Channel != provider.ChannelSMS {
		return fmt.Errorf("after Start, To, Channel = %q, %q, want %q, %q", v.To, v.Channel, phone, provider.ChannelSMS)
	}
	return wantStatus("Start", v, nil, provider.StatusPending)
}

func checkRightCodeApproves(ctx context.Context, h Harness, _ Limits) error {
	v, code, err := start(ctx, h, phone, provider.ChannelSMS)
	if err != nil {
		return err
	}
	got, err := h.Provider().Check(ctx, provider.CheckRequest{To: phone, Code: code})
	if err := wantStatus("Check(right code)", got, err, provider.StatusApproved); err != nil {
		return err
	}
	if got.ID != v.ID {
		return fmt.Errorf("Check(right code): ID = %q, want the started %q", got.ID, v.ID)
	}
	return nil
}

func checkByID(ctx context.Context, h Harness, _ Limits) error {
	v, code, err := start(ctx, h, phone, provider.ChannelSMS)
	if err != nil {
		return err
	}
	got, err := h.Provider().Check(ctx, provider.CheckRequest{ID: v.ID, Code: wrong(code)})
	if err := wantStatus("Check(ID, wrong code)", got, err, provider.StatusPending); err != nil {
		return err
	}
	got, err = h.Provider().Check(ctx, provider.CheckRequest{ID: v.ID, Code: code})
	return wantStatus("Check(ID, right code)", got, err, provider.StatusApproved)
}

func checkWrongCodeIsPending(ctx context.Context, h Harness, _ Limits) error {
	v, code, err := start(ctx, h, phone, provider.ChannelSMS)
	if err != nil {
		return err
	}
	got, err := h.Provider().Check(ctx, provider.CheckRequest{To: phone, Code: wrong(code)})
	if err := wantStatus("Check(wrong code)", got, err, provider.StatusPending); err != nil {
		return err
	}
	if got.Approved() || got.ID != v.ID {
		return fmt.Errorf("Check(wrong code) = %v, want the started verification %q, not approved", got, v.ID)
	}
	got, err = h.Provider().Check(ctx, provider.CheckRequest{To: phone, Code: code})
	return wantStatus("Check(right code after a wrong one)", got, err, provider.StatusApproved)
}

func checkRepeatStart(ctx context.Context, h Harness, _ Limits) error {
	v1, code1, err := start(ctx, h, phone, provider.ChannelSMS)
	if err != nil {
		return err
	}
	v2, code2, err := start(ctx, h, phone, provider.ChannelSMS)
	if err != nil {
		return err
	}
	if v2.ID != v1.ID {
		return fmt.Errorf("second Start: ID = %q, want the first verification's %q", v2.ID, v1.ID)
	}
	if code2 != code1 {
		return errors.New("second Start delivered a different code; it must re-send the pending one")
	}
	if len(v2.SendAttempts) > 0 && len(v2.SendAttempts) != len(v1.SendAttempts)+1 {
		return fmt.Errorf("second Start: %d send attempts, want %d", len(v2.SendAttempts), len(v1.SendAttempts)+1)
	}
	got, err := h.Provider().Check(ctx, provider.CheckRequest{To: phone, Code: code1})
	return wantStatus("Check(the re-sent code)", got, err, provider.StatusApproved)
}

func checkTooManySends(ctx context.Context, h Harness, lim Limits) error {
	for i := range lim.MaxSends {
		if _, _, err := start(ctx, h, phone, provider.ChannelSMS); err != nil {
			return fmt.Errorf("send %d of %d: %w", i+1, lim.MaxSends, err)
		}
	}
	_, err := h.Provider().Start(ctx, provider.StartRequest{To: phone, Channel: provider.ChannelSMS})
	if err := wantErr(fmt.Sprintf("Start number %d", lim.MaxSends+1), err, provider.ErrTooManySends); err != nil {
		return err
	}
	// Another target is not affected.
	_, _, err = start(ctx, h, phone2, provider.ChannelSMS)
	return err
}

func checkTooManyChecks(ctx context.Context, h Harness, lim Limits) error {
	_, code, err := start(ctx, h, phone, provider.ChannelSMS)
	if err != nil {
		return err
	}
	for i := range lim.MaxChecks {
		got, err := h.Provider().Check(ctx, provider.CheckRequest{To: phone, Code: wrong(code)})
		if err := wantStatus(fmt.Sprintf("wrong code %d of %d", i+1, lim.MaxChecks), got, err, provider.StatusPending); err != nil {
			return err
		}
	}
	_, err = h.Provider().Check(ctx, provider.CheckRequest{To: phone, Code: code})
	return wantErr(fmt.Sprintf("Check after %d wrong codes", lim.MaxChecks), err, provider.ErrTooManyChecks)
}

// checkGone checks that the verification v is gone for every operation the
// provider has.
func checkGone(ctx context.Context, h Harness, v provider.Verification, code, why string) error {
	p := h.Provider()
	_, err := p.Check(ctx, provider.CheckRequest{To: v.To, Code: code})
	if err := wantErr("Check by To after "+why, err, provider.ErrNotFound); err != nil {
		return err
	}
	_, err = p.Check(ctx, provider.CheckRequest{ID: v.ID, Code: code})
	if err := wantErr("Check by ID after "+why, err, provider.ErrNotFound); err != nil {
		return err
	}
	if f, ok := p.(provider.Fetcher); ok {
		_, err := f.Fetch(ctx, v.ID)
		if err := wantErr("Fetch after "+why, err, provider.ErrNotFound); err != nil {
			return err
		}
	}
	if c, ok := p.(provider.Canceler); ok {
		_, err := c.Cancel(ctx, v.ID)
		if err := wantErr("Cancel after "+why, err, provider.ErrNotFound); err != nil {
			return err
		}
	}
	return nil
}

func checkApprovedIsGone(ctx context.Context, h Harness, _ Limits) error {
	v, code, err := start(ctx, h, phone, provider.ChannelSMS)
	if err != nil {
		return err
	}
	got, err := h.Provider().Check(ctx, provider.CheckRequest{To: phone, Code: code})
	if err := wantStatus("Check(right code)", got, err, provider.StatusApproved); err != nil {
		return err
	}
	return checkGone(ctx, h, v, code, "approval")
}

// restart checks that a new Start after the end of v makes a new
// verification.
func restart(ctx context.Context, h Harness, v provider.Verification, why string) error {
	v2, _, err := start(ctx, h, v.To, provider.ChannelSMS)
	if err != nil {
		return fmt.Errorf("new Start after %s: %w", why, err)
	}
	if v2.ID == v.ID {
		return fmt.Errorf("new Start after %s reused the old verification %q", why, v.ID)
	}
	return nil
}

func checkCanceledIsGone(ctx context.Context, h Harness, _ Limits) error {
	c, ok := h.Provider().(provider.Canceler)
	if !ok {
		return nil // optional capability
	}
	v, code, err := start(ctx, h, phone, provider.ChannelSMS)
	if err != nil {
		return err
	}
	got, err := c.Cancel(ctx, v.ID)
	if err := wantStatus("Cancel", got, err, provider.StatusCanceled); err != nil {
		return err
	}
	if err := checkGone(ctx, h, v, code, "cancel"); err != nil {
		return err
	}
	return restart(ctx, h, v, "cancel")
}

func checkExpiredIsGone(ctx context.Context, h Harness, lim Limits) error {
	v, code, err := start(ctx, h, phone, provider.ChannelSMS)
	if err != nil {
		return err
	}
	h.Advance(lim.Validity - time.Second)
	got, err := h.Provider().Check(ctx, provider.CheckRequest{To: phone, Code: wrong(code)})
	if err := wantStatus("Check one second before expiry", got, err, provider.StatusPending); err != nil {
		return err
	}
	h.Advance(2 * time.Second)
	if err := checkGone(ctx, h, v, code, "expiry"); err != nil {
		return err
	}
	return restart(ctx, h, v, "expiry")
}

func checkWithoutStart(ctx context.Context, h Harness, _ Limits) error {
	_, err := h.Provider().Check(ctx, provider.CheckRequest{To: phone2, Code: "123456"})
	return wantErr("Check with no Start", err, provider.ErrNotFound)
}

func checkFetchPending(ctx context.Context, h Harness, _ Limits) error {
	f, ok := h.Provider().(provider.Fetcher)
	if !ok {
		return nil // optional capability
	}
	v, code, err := start(ctx, h, phone, provider.ChannelSMS)
	if err != nil {
		return err
	}
	got, err := f.Fetch(ctx, v.ID)
	if err := wantStatus("Fetch", got, err, provider.StatusPending); err != nil {
		return err
	}
	if got.ID != v.ID || got.To != v.To {
		return fmt.Errorf("fetched %v, want %v", got, v)
	}
	got, err = h.Provider().Check(ctx, provider.CheckRequest{ID: v.ID, Code: code})
	return wantStatus("Check after Fetch", got, err, provider.StatusApproved)
}

func checkEmailChannel(ctx context.Context, h Harness, _ Limits) error {
	v, code, err := start(ctx, h, email, provider.ChannelEmail)
	if err != nil {
		return err
	}
	if err := wantStatus("Start(email)", v, nil, provider.StatusPending); err != nil {
		return err
	}
	got, err := h.Provider().Check(ctx, provider.CheckRequest{To: email, Code: code})
	return wantStatus("Check(email, right code)", got, err, provider.StatusApproved)
}

func checkInvalidTarget(ctx context.Context, h Harness, _ Limits) error {
	for _, req := range []provider.StartRequest{
		{To: "", Channel: provider.ChannelSMS},
		{To: "not a number", Channel: provider.ChannelSMS},
		{To: "4155552671", Channel: provider.ChannelSMS},
		{To: email, Channel: provider.ChannelSMS},
		{To: phone, Channel: provider.ChannelEmail},
	} {
		_, err := h.Provider().Start(ctx, req)
		if err := wantErr(fmt.Sprintf("Start(%q, %s)", req.To, req.Channel), err, provider.ErrInvalidRequest); err != nil {
			return err
		}
		if code, ok := h.LastCode(req.To); ok {
			return fmt.Errorf("Start(%q, %s) was refused but delivered code %q", req.To, req.Channel, code)
		}
	}
	return nil
}

func checkUnknownChannel(ctx context.Context, h Harness, _ Limits) error {
	_, err := h.Provider().Start(ctx, provider.StartRequest{To: phone, Channel: "pigeon"})
	if err := wantErr("Start(channel pigeon)", err, provider.ErrInvalidRequest); err != nil {
		return err
	}
	if _, ok := h.LastCode(phone); ok {
		return errors.New("Start(channel pigeon) was refused but delivered a code")
	}
	return nil
}

func checkMalformedCode(ctx context.Context, h Harness, lim Limits) error {
	_, code, err := start(ctx, h, phone, provider.ChannelSMS)
	if err != nil {
		return err
	}
	bad := []string{"", "12", "12345678901", "12 34", "12&Code=1"}
	for len(bad) <= lim.MaxChecks { // more bad codes than wrong codes allowed
		bad = append(bad, "1")
	}
	for _, c := range bad {
		_, err := h.Provider().Check(ctx, provider.CheckRequest{To: phone, Code: c})
		if err := wantErr(fmt.Sprintf("Check(code %q)", c), err, provider.ErrInvalidRequest); err != nil {
			return err
		}
	}
	got, err := h.Provider().Check(ctx, provider.CheckRequest{To: phone, Code: code})
	return wantStatus("Check(right code) after malformed ones", got, err, provider.StatusApproved)
}

func checkCanceledContext(ctx context.Context, h Harness, _ Limits) error {
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	expired, cancel2 := context.WithDeadline(ctx, time.Unix(1, 0))
	defer cancel2()
	p := h.Provider()
	for _, c := range []struct {
		ctx  context.Context
		want error
	}{{canceled, context.Canceled}, {expired, context.DeadlineExceeded}} {
		_, err := p.Start(c.ctx, provider.StartRequest{To: phone, Channel: provider.ChannelSMS})
		if err := wantErr("Start", err, c.want); err != nil {
			return err
		}
		_, err = p.Check(c.ctx, provider.CheckRequest{To: phone, Code: "123456"})
		if err := wantErr("Check", err, c.want); err != nil {
			return err
		}
	}
	if _, ok := h.LastCode(phone); ok {
		return errors.New("a Start with a done context delivered a code")
	}
	return nil
}

func checkConcurrent(ctx context.Context, h Harness, lim Limits) error {
	const users = 8
	p := h.Provider()
	var wg sync.WaitGroup
	errs := make([]error, users+lim.MaxSends)
	for i := range users {
		wg.Go(func() {
			to := fmt.Sprintf("+1415555%04d", 1000+i)
			v, code, err := start(ctx, h, to, provider.ChannelSMS)
			if err != nil {
				errs[i] = err
				return
			}
			got, err := p.Check(ctx, provider.CheckRequest{To: to, Code: wrong(code)})
			if err := wantStatus("concurrent wrong code", got, err, provider.StatusPending); err != nil {
				errs[i] = err
				return
			}
			got, err = p.Check(ctx, provider.CheckRequest{ID: v.ID, Code: code})
			errs[i] = wantStatus("concurrent right code", got, err, provider.StatusApproved)
		})
	}
	// Concurrent starts to one target share one verification.
	ids := make([]string, lim.MaxSends)
	for i := range lim.MaxSends {
		wg.Go(func() {
			v, err := p.Start(ctx, provider.StartRequest{To: phone, Channel: provider.ChannelSMS})
			if err != nil {
				errs[users+i] = fmt.Errorf("concurrent Start to one target: %w", err)
			}
			ids[i] = v.ID
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for _, id := range ids[1:] {
		if id != ids[0] {
			return fmt.Errorf("concurrent Starts to one target made verifications %q and %q", ids[0], id)
		}
	}
	return nil
}

func checkErrorsAs(ctx context.Context, h Harness, _ Limits) error {
	_, err := h.Provider().Check(ctx, provider.CheckRequest{To: phone2, Code: "123456"})
	if err == nil {
		return errors.New("no error from a Check with no Start")
	}
	target := h.ErrorTarget()
	if !errors.As(err, target) {
		return fmt.Errorf("errors.As(%v, %T) = false", err, target)
	}
	return nil
}
