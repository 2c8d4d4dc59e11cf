// Package providertest is the conformance suite every verification provider
// runs: one named subtest per rule of the provider contract (see the
// provider package documentation), each failure naming the rule it
// enforces. A provider's test runs it in a few lines, with a
// [HarnessFuncs] that gives a fresh provider, the means to observe it and
// the limits it is configured with:
//
//	func TestConformance(t *testing.T) {
//		providertest.Run(t, func(t *testing.T) providertest.Harness {
//			p, outbox, clock := newProviderForTest(t)
//			return &providertest.HarnessFuncs{
//				Subject:         p,
//				LastCodeFunc:    outbox.LastCode,
//				AdvanceFunc:     clock.Advance,
//				ErrorTargetFunc: func() any { return new(*mypkg.Error) },
//				Declared: providertest.Limits{
//					Validity: 10 * time.Minute, MaxSends: 5, MaxChecks: 5,
//					MinCodeLength: 4, MaxCodeLength: 10,
//				},
//			}
//		})
//	}
//
// The rules reach the provider through verify.New(p), as an application
// does (and as Go CDK's drivertest reaches a driver through
// its portable type): they check what the client and the provider
// guarantee together, so a provider need not repeat the client's
// validation (see the provider package documentation). An optional
// operation that answers ErrUnsupported skips its rule, as a missing
// interface does. The factors section goes through the client's factor
// methods (EnrollTOTP, ConfirmFactor, CheckFactor and the rest) too.
//
// The suite reads what the provider does from the provider itself: its
// [provider.Capabilities] and the optional interfaces it implements. A rule
// that needs a capability the provider lacks is skipped, and the skip names
// the capability (run with -v to see them). Limits are not capabilities:
// the harness declares them. The rules send over sms to E.164 numbers (and
// over email where the provider declares it), so a provider under test must
// deliver sms.
//
// A provider that implements [provider.FactorProvider] also runs the
// factors section (subtests "Factors/…"): the harness then gives the
// provider's clock and its factor limits too ([HarnessFuncs.NowFunc],
// [HarnessFuncs.DeclaredFactors]), because the section computes TOTP codes
// itself, as an authenticator app does. For any other provider those
// subtests are skipped, naming the capability. [RunFactors] runs the
// section alone, with a [FactorHarness].
//
// A provider that checks silent network auth (provider.SNAChecker, with
// ChannelSNA among its channels) runs the SNA section too (subtests
// "SNA/…") when the harness plays the device ([HarnessFuncs.OpenSNAFunc],
// see [SNAHarness]): the URL a Start gives, "not yet" before the device's
// visit, approval after it, and the fall-back decision of a failed visit
// ([HarnessFuncs.FailSNAFunc]).
//
// The suite needs to read the code a provider delivered and to move the
// provider's clock, which only a test double or an emulator can do, so
// providers of real services run it against their emulator.
package providertest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/verifykit/verifykit/provider"
)

// Harness gives the suite a fresh provider, the means to observe it, and
// the limits it is configured with. [HarnessFuncs] implements it from
// values and functions. When the provider implements
// provider.FactorProvider, the harness must also have the methods
// Now() time.Time (the provider's clock) and FactorLimits() FactorLimits,
// for the factors section; HarnessFuncs has both.
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
	// Limits returns the limits the provider is configured with.
	Limits() Limits
}

// Limits are the provider's limits, as the suite expects to observe them.
// Every field is required: they are the provider's own configuration, not
// the suite's, which has no defaults of its own.
type Limits struct {
	// Validity is how long a code stays valid.
	Validity time.Duration
	// MaxSends is how many sends one verification allows (with
	// Capabilities.ResendOnStart).
	MaxSends int
	// MaxChecks is how many wrong codes one verification allows.
	MaxChecks int
	// MinCodeLength and MaxCodeLength bound the codes Check accepts; a
	// shorter or longer one fails with ErrInvalidRequest.
	MinCodeLength, MaxCodeLength int
}

// validate reports what is wrong with the declared limits.
func (l Limits) validate() error {
	if l.Validity < 2*time.Second || l.MaxSends < 1 || l.MaxChecks < 1 || l.MinCodeLength < 1 || l.MaxCodeLength < l.MinCodeLength {
		return fmt.Errorf("providertest: the harness declares incomplete limits %+v: every field is required", l)
	}
	return nil
}

// HarnessFuncs is a [Harness] made of a provider, functions and limits, so
// that a provider's test needs no harness type of its own. Subject,
// LastCodeFunc, AdvanceFunc, ErrorTargetFunc and Declared are required (a
// nil function panics when a rule calls it; incomplete limits fail the
// test); NowFunc and DeclaredFactors only for a provider.FactorProvider.
// Use it by pointer: the methods have pointer receivers.
type HarnessFuncs struct {
	// Subject is the provider under test.
	Subject provider.Provider
	// LastCodeFunc returns the code most recently delivered to a target.
	LastCodeFunc func(to string) (string, bool)
	// AdvanceFunc moves the provider's clock forward.
	AdvanceFunc func(d time.Duration)
	// ErrorTargetFunc returns a new pointer to a variable of the provider's
	// error type.
	ErrorTargetFunc func() any
	// Declared are the provider's limits.
	Declared Limits
	// NowFunc returns the provider's current time. The factors section
	// needs it (it computes codes as an authenticator app does), so it is
	// required when Subject implements provider.FactorProvider.
	NowFunc func() time.Time
	// DeclaredFactors are the provider's factor limits, required when
	// Subject implements provider.FactorProvider.
	DeclaredFactors FactorLimits
	// PushDeviceFunc returns the provider's device side (see
	// PushHarness), required when Subject implements
	// provider.PushProvider.
	PushDeviceFunc func() provider.PushDeviceAPI
	// OpenSNAFunc plays the device of silent network auth (see
	// SNAHarness.OpenSNA); without it the SNA section is skipped.
	OpenSNAFunc func(ctx context.Context, url string) (token string, err error)
	// FailSNAFunc makes the next SNA visit of a target fail (see
	// SNAHarness.FailSNA); without it the rule that needs it is skipped.
	FailSNAFunc func(to string, fallBack bool) error
	// SNATokenRequired says the provider's SNA check needs the token the
	// device got back from the URL (see SNAHarness.SNANeedsToken).
	SNATokenRequired bool
}

// Provider returns h.Subject.
func (h *HarnessFuncs) Provider() provider.Provider { return h.Subject }

// LastCode calls h.LastCodeFunc.
func (h *HarnessFuncs) LastCode(to string) (string, bool) { return h.LastCodeFunc(to) }

// Advance calls h.AdvanceFunc.
func (h *HarnessFuncs) Advance(d time.Duration) { h.AdvanceFunc(d) }

// ErrorTarget calls h.ErrorTargetFunc.
func (h *HarnessFuncs) ErrorTarget() any { return h.ErrorTargetFunc() }

// Limits returns h.Declared.
func (h *HarnessFuncs) Limits() Limits { return h.Declared }

// Now calls h.NowFunc; with no NowFunc it returns the zero time, and the
// factors section fails, saying NowFunc is missing.
func (h *HarnessFuncs) Now() time.Time {
	if h.NowFunc == nil {
		return time.Time{}
	}
	return h.NowFunc()
}

// FactorLimits returns h.DeclaredFactors.
func (h *HarnessFuncs) FactorLimits() FactorLimits { return h.DeclaredFactors }

// The capabilities a rule may need, as Rule.Needs names them.
const (
	NeedCheckByTo     = "CheckByTo"           // provider.Capabilities.CheckByTo
	NeedResendOnStart = "ResendOnStart"       // provider.Capabilities.ResendOnStart
	NeedNoResend      = "ResendOnStart=false" // the provider refuses a repeated Start
	NeedCanceler      = "Canceler"            // provider.Canceler
	NeedFetcher       = "Fetcher"             // provider.Fetcher
	NeedApprover      = "Approver"            // provider.Approver
	NeedEmail         = "channel email"       // ChannelEmail among Capabilities.Channels
	NeedFactors       = "FactorProvider"      // provider.FactorProvider: the factors section
)

// has reports whether the provider has the capability need names.
func has(p provider.Provider, need string) bool {
	caps := provider.CapabilitiesOf(p)
	switch need {
	case NeedCheckByTo:
		return caps.CheckByTo
	case NeedResendOnStart:
		return caps.ResendOnStart
	case NeedNoResend:
		return !caps.ResendOnStart
	case NeedCanceler:
		_, ok := p.(provider.Canceler)
		return ok
	case NeedFetcher:
		_, ok := p.(provider.Fetcher)
		return ok
	case NeedApprover:
		_, ok := p.(provider.Approver)
		return ok
	case NeedEmail:
		return caps.Supports(provider.ChannelEmail)
	case NeedFactors:
		_, ok := p.(provider.FactorProvider)
		return ok
	}
	return false
}

// Rule is one rule of the provider contract, as the suite checks it.
type Rule struct {
	// Name is the subtest's name, such as "WrongCodeIsPending".
	Name string
	// Text states the rule, as printed with each failure.
	Text string
	// Needs lists the capabilities the rule needs (the Need… constants);
	// the rule is skipped for a provider that lacks one.
	Needs []string

	check func(context.Context, Harness, Limits) error
}

// Rules returns the rules the suite checks, in the order it checks them.
func Rules() []Rule { return append([]Rule(nil), rules...) }

// Run runs the conformance suite: one subtest per rule, each with a fresh
// harness from newHarness, then the factors section (subtests
// "Factors/…", see [FactorRules]). A failure names the rule it enforces; a
// rule whose capability the provider lacks is skipped, naming the
// capability — the factors section too, when the provider does not
// implement provider.FactorProvider. For a provider that does, the harness
// must give its clock and factor limits ([HarnessFuncs.NowFunc] and
// [HarnessFuncs.DeclaredFactors], or methods Now and FactorLimits on
// another Harness).
func Run(t *testing.T, newHarness func(t *testing.T) Harness) {
	t.Helper()
	for _, r := range rules {
		t.Run(r.Name, func(t *testing.T) {
			RunRule(t, r, newHarness(t))
		})
	}
	for _, r := range factorRules {
		t.Run("Factors/"+r.Name, func(t *testing.T) {
			RunFactorRuleOn(t, r, newHarness(t))
		})
	}
	for _, r := range pushRules {
		t.Run("Push/"+r.Name, func(t *testing.T) {
			RunPushRuleOn(t, r, newHarness(t))
		})
	}
	for _, r := range snaRules {
		t.Run("SNA/"+r.Name, func(t *testing.T) {
			RunSNARuleOn(t, r, newHarness(t))
		})
	}
}

// RunRule checks one rule against h, reporting a failure on t, or
// skipping t when the provider lacks a capability the rule needs. Run
// calls it for every rule; call it directly to run rules in an environment
// Run does not set up, such as a testing/synctest bubble.
func RunRule(t testing.TB, r Rule, h Harness) {
	t.Helper()
	if missing := r.missing(h); missing != "" {
		t.Skipf("rule %s needs %s, which the provider does not declare", r.Name, missing)
		return
	}
	if err := r.run(t.Context(), h); errors.Is(err, errOptional) {
		t.Skipf("rule %s: %v", r.Name, err)
	} else if err != nil {
		t.Errorf("%v\nrule: %s", err, r.Text)
	}
}

// errOptional marks a rule's error as an optional operation answering
// ErrUnsupported: the rule is skipped. A provider may implement an optional
// interface and still answer ErrUnsupported for some verifications (a
// route.Router whose route lacks the operation); see provider's doc.
var errOptional = errors.New("the provider answered ErrUnsupported to an optional operation")

// optional returns err marked with errOptional when it is ErrUnsupported
// from the optional operation op, else err.
func optional(op string, err error) error {
	if errors.Is(err, provider.ErrUnsupported) {
		return fmt.Errorf("%w (%s: %v)", errOptional, op, err)
	}
	return err
}

// missing returns the first capability the rule needs that h's provider
// lacks, or "".
func (r Rule) missing(h Harness) string {
	for _, n := range r.Needs {
		if !has(h.Provider(), n) {
			return n
		}
	}
	return ""
}

// run checks the rule against h, whose provider it reaches through
// verify.New, as an application does.
func (r Rule) run(ctx context.Context, h Harness) error {
	lim := h.Limits()
	if err := lim.validate(); err != nil {
		return err
	}
	ch, err := viaClient(h, lim)
	if err != nil {
		return fmt.Errorf("verify.New: %w", err)
	}
	return r.check(ctx, ch, lim)
}

const (
	phone  = "+14155552671"
	phone2 = "+14155550100"
	email  = "alice@example.com"
)

var rules = []Rule{
	{"StartIsPending", "Start returns a verification with an opaque, non-empty ID and status pending.", nil, checkStartIsPending},
	{"RightCodeApproves", "Check with the right code gives status approved.", nil, checkRightCodeApproves},
	{"CheckByID", "Check may be keyed by the verification's ID instead of To.", nil, checkByID},
	{"CheckByTo", "With CheckByTo, Check may be keyed by To alone, and names the pending verification to that target.", []string{NeedCheckByTo}, checkByTo},
	{"WrongCodeIsPending", "Check with a wrong code gives status pending and no error, and the verification can still be approved.", nil, checkWrongCodeIsPending},
	{"RepeatStartReusesVerification", "A second Start to the same To inside the validity window reuses the pending verification and its code, and counts as another send.", []string{NeedResendOnStart}, checkRepeatStart},
	{"RepeatStartConflicts", "Without ResendOnStart, a second Start to the same To inside the validity window fails with ErrConflict, delivers no new code, and leaves the pending verification as it was (PendingID, when given, names it).", []string{NeedNoResend}, checkRepeatStartConflicts},
	{"TooManySends", "After the allowed number of sends, the next Start fails with ErrTooManySends.", []string{NeedResendOnStart}, checkTooManySends},
	{"TooManyChecks", "After the allowed number of wrong codes, the next Check fails with ErrTooManyChecks, even with the right code.", nil, checkTooManyChecks},
	{"StartAfterTooManyChecks", "After the allowed number of wrong codes, a Start to the same To never delivers a code that cannot approve: it fails with ErrTooManySends (no more codes in this window) and delivers nothing until the verification expires, or it starts a new verification (new ID) whose code approves.", nil, checkStartAfterTooManyChecks},
	{"FetchAfterTooManyChecks", "After the allowed number of wrong codes, Fetch does not report the verification as pending: it fails with ErrNotFound or reports a final status.", []string{NeedFetcher}, checkFetchAfterTooManyChecks},
	{"ApprovedIsGone", "Once approved, a verification is gone: Check, Fetch and Cancel fail with ErrNotFound.", nil, checkApprovedIsGone},
	{"OldIDDoesNotReachNewVerification", "After a verification is approved, the next one to the same To has a new ID, and the old ID does not reach it: Check (even with the new code), Fetch, Cancel and Approve with the old ID fail with ErrNotFound, and the new verification still approves.", nil, checkOldID},
	{"ApproveWithoutCode", "Approve gives status approved without a code; afterwards the verification is gone (ErrNotFound).", []string{NeedApprover}, checkApprove},
	{"CanceledIsGone", "Cancel gives status canceled; afterwards the verification is gone (ErrNotFound) and a new Start makes a new one.", []string{NeedCanceler}, checkCanceledIsGone},
	{"ExpiredIsGone", "Once its validity window ends, a verification is gone (ErrNotFound) and a new Start makes a new one.", nil, checkExpiredIsGone},
	{"ExpiresAtIsWindowEnd", "ExpiresAt is either zero (the provider does not say) or the end of the validity window: CreatedAt plus the validity, the same in every answer about the verification.", nil, checkExpiresAt},
	{"CheckWithoutStartIsNotFound", "Check for a target with no pending verification fails with ErrNotFound.", []string{NeedCheckByTo}, checkWithoutStart},
	{"UnknownIDIsNotFound", "Check, Fetch, Cancel and Approve with an ID the provider never issued fail with ErrNotFound, whatever the ID's shape: IDs are opaque to callers.", nil, checkUnknownID},
	{"FetchPending", "Fetch of a pending verification returns it, pending, without changing it.", []string{NeedFetcher}, checkFetchPending},
	{"EmailChannel", "Start over the email channel to an e-mail address works like sms to a phone number.", []string{NeedEmail}, checkEmailChannel},
	{"InvalidTargetIsInvalidRequest", "A malformed To, or a To that does not fit the channel, fails with ErrInvalidRequest before anything is sent.", nil, checkInvalidTarget},
	{"UnknownChannelIsInvalidRequest", "A channel outside sms, call, whatsapp, email, sna and auto fails with ErrInvalidRequest before anything is sent.", nil, checkUnknownChannel},
	{"MalformedCodeIsInvalidRequest", "A code that cannot be a code fails with ErrInvalidRequest and does not count as a wrong code.", nil, checkMalformedCode},
	{"CanceledContext", "A canceled or expired context returns the context's error.", nil, checkCanceledContext},
	{"ConcurrentUse", "A provider is safe for concurrent use (run the suite with -race).", nil, checkConcurrent},
	{"ErrorsAs", "errors.As reaches the provider's own error type.", nil, checkErrorsAs},
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

// check checks code against v the way the provider allows: by To when it
// has CheckByTo (the way most callers do), by ID otherwise.
func check(ctx context.Context, h Harness, v provider.Verification, code string) (provider.Verification, error) {
	req := provider.CheckRequest{ID: v.ID, Code: code}
	if provider.CapabilitiesOf(h.Provider()).CheckByTo {
		req = provider.CheckRequest{To: v.To, Code: code}
	}
	return h.Provider().Check(ctx, req)
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
	got, err := check(ctx, h, v, code)
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

func checkByTo(ctx context.Context, h Harness, _ Limits) error {
	v, code, err := start(ctx, h, phone, provider.ChannelSMS)
	if err != nil {
		return err
	}
	if _, _, err := start(ctx, h, phone2, provider.ChannelSMS); err != nil {
		return err
	}
	got, err := h.Provider().Check(ctx, provider.CheckRequest{To: phone, Code: wrong(code)})
	if err := wantStatus("Check(To, wrong code)", got, err, provider.StatusPending); err != nil {
		return err
	}
	if got.ID != v.ID {
		return fmt.Errorf("Check(To) answered about %q, want the verification to that target %q", got.ID, v.ID)
	}
	got, err = h.Provider().Check(ctx, provider.CheckRequest{To: phone, Code: code})
	return wantStatus("Check(To, right code)", got, err, provider.StatusApproved)
}

func checkWrongCodeIsPending(ctx context.Context, h Harness, _ Limits) error {
	v, code, err := start(ctx, h, phone, provider.ChannelSMS)
	if err != nil {
		return err
	}
	got, err := check(ctx, h, v, wrong(code))
	if err := wantStatus("Check(wrong code)", got, err, provider.StatusPending); err != nil {
		return err
	}
	if got.Approved() || got.ID != v.ID {
		return fmt.Errorf("Check(wrong code) = %v, want the started verification %q, not approved", got, v.ID)
	}
	got, err = check(ctx, h, v, code)
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
	got, err := check(ctx, h, v1, code1)
	return wantStatus("Check(the re-sent code)", got, err, provider.StatusApproved)
}

func checkRepeatStartConflicts(ctx context.Context, h Harness, _ Limits) error {
	v1, code1, err := start(ctx, h, phone, provider.ChannelSMS)
	if err != nil {
		return err
	}
	_, err = h.Provider().Start(ctx, provider.StartRequest{To: phone, Channel: provider.ChannelSMS})
	if err := wantErr("second Start", err, provider.ErrConflict); err != nil {
		return err
	}
	if id, ok := provider.PendingID(err); ok && id != v1.ID {
		return fmt.Errorf("second Start: PendingID = %q, want the pending %q", id, v1.ID)
	}
	if code, _ := h.LastCode(phone); code != code1 {
		return errors.New("second Start was refused but delivered a new code")
	}
	got, err := check(ctx, h, v1, code1)
	return wantStatus("Check(the first code)", got, err, provider.StatusApproved)
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

// spendChecks starts a verification and checks lim.MaxChecks wrong codes.
func spendChecks(ctx context.Context, h Harness, lim Limits) (provider.Verification, string, error) {
	v, code, err := start(ctx, h, phone, provider.ChannelSMS)
	if err != nil {
		return v, "", err
	}
	for i := range lim.MaxChecks {
		got, err := check(ctx, h, v, wrong(code))
		if err := wantStatus(fmt.Sprintf("wrong code %d of %d", i+1, lim.MaxChecks), got, err, provider.StatusPending); err != nil {
			return v, "", err
		}
	}
	return v, code, nil
}

func checkTooManyChecks(ctx context.Context, h Harness, lim Limits) error {
	v, code, err := spendChecks(ctx, h, lim)
	if err != nil {
		return err
	}
	_, err = check(ctx, h, v, code)
	return wantErr(fmt.Sprintf("Check after %d wrong codes", lim.MaxChecks), err, provider.ErrTooManyChecks)
}

func checkStartAfterTooManyChecks(ctx context.Context, h Harness, lim Limits) error {
	v, code, err := spendChecks(ctx, h, lim)
	if err != nil {
		return err
	}
	v2, err := h.Provider().Start(ctx, provider.StartRequest{To: phone, Channel: provider.ChannelSMS})
	switch {
	case errors.Is(err, provider.ErrTooManySends):
		if got, _ := h.LastCode(phone); got != code {
			return errors.New("after the check limit, Start was refused but delivered a code")
		}
		// Refused until the verification expires, then a new one.
		h.Advance(lim.Validity + time.Second)
		return restart(ctx, h, v, "the check limit and the end of the validity window")
	case err != nil:
		return fmt.Errorf("after the check limit, Start: error = %v, want ErrTooManySends or a new verification", err)
	case v2.ID == v.ID:
		return fmt.Errorf("after the check limit, Start re-sent verification %q, which can no longer be approved", v.ID)
	}
	code2, _ := h.LastCode(phone)
	got, err := check(ctx, h, v2, code2)
	return wantStatus("Check(the code of the new verification)", got, err, provider.StatusApproved)
}

func checkFetchAfterTooManyChecks(ctx context.Context, h Harness, lim Limits) error {
	v, _, err := spendChecks(ctx, h, lim)
	if err != nil {
		return err
	}
	got, err := h.Provider().(provider.Fetcher).Fetch(ctx, v.ID)
	err = optional("Fetch", err)
	switch {
	case errors.Is(err, errOptional):
		return err
	case errors.Is(err, provider.ErrNotFound):
		return nil
	case err != nil:
		return fmt.Errorf("after the check limit, Fetch: error = %v, want ErrNotFound or a final status", err)
	case got.Status == provider.StatusPending || !got.Status.Final():
		return fmt.Errorf("after the check limit, Fetch: status = %q, want ErrNotFound or a final status", got.Status)
	}
	return nil
}

// checkGone checks that the verification v is gone for every operation the
// provider has.
func checkGone(ctx context.Context, h Harness, v provider.Verification, code, why string) error {
	p := h.Provider()
	if provider.CapabilitiesOf(p).CheckByTo {
		_, err := p.Check(ctx, provider.CheckRequest{To: v.To, Code: code})
		if err := wantErr("Check by To after "+why, err, provider.ErrNotFound); err != nil {
			return err
		}
	}
	_, err := p.Check(ctx, provider.CheckRequest{ID: v.ID, Code: code})
	if err := wantErr("Check by ID after "+why, err, provider.ErrNotFound); err != nil {
		return err
	}
	for _, op := range byIDOps(p) {
		_, err := op.fn(ctx, v.ID)
		if errors.Is(err, provider.ErrUnsupported) {
			continue // implemented, but not for this verification
		}
		if err := wantErr(op.name+" after "+why, err, provider.ErrNotFound); err != nil {
			return err
		}
	}
	return nil
}

type byIDOp struct {
	name string
	fn   func(context.Context, string) (provider.Verification, error)
}

// byIDOps returns the operations by ID that p offers beyond Check.
func byIDOps(p provider.Provider) []byIDOp {
	var ops []byIDOp
	if f, ok := p.(provider.Fetcher); ok {
		ops = append(ops, byIDOp{"Fetch", f.Fetch})
	}
	if c, ok := p.(provider.Canceler); ok {
		ops = append(ops, byIDOp{"Cancel", c.Cancel})
	}
	if a, ok := p.(provider.Approver); ok {
		ops = append(ops, byIDOp{"Approve", a.Approve})
	}
	return ops
}

func checkApprovedIsGone(ctx context.Context, h Harness, _ Limits) error {
	v, code, err := start(ctx, h, phone, provider.ChannelSMS)
	if err != nil {
		return err
	}
	got, err := check(ctx, h, v, code)
	if err := wantStatus("Check(right code)", got, err, provider.StatusApproved); err != nil {
		return err
	}
	return checkGone(ctx, h, v, code, "approval")
}

func checkOldID(ctx context.Context, h Harness, _ Limits) error {
	p := h.Provider()
	old, code, err := start(ctx, h, phone, provider.ChannelSMS)
	if err != nil {
		return err
	}
	got, err := p.Check(ctx, provider.CheckRequest{ID: old.ID, Code: code})
	if err := wantStatus("Check(right code)", got, err, provider.StatusApproved); err != nil {
		return err
	}
	cur, code, err := start(ctx, h, phone, provider.ChannelSMS)
	if err != nil {
		return err
	}
	if cur.ID == old.ID {
		return fmt.Errorf("the verification after an approved one has its ID %q", old.ID)
	}
	_, err = p.Check(ctx, provider.CheckRequest{ID: old.ID, Code: code})
	if err := wantErr("Check(old ID, new code)", err, provider.ErrNotFound); err != nil {
		return err
	}
	for _, op := range byIDOps(p) {
		_, err := op.fn(ctx, old.ID)
		if errors.Is(err, provider.ErrUnsupported) {
			continue // implemented, but not for this verification
		}
		if err := wantErr(op.name+"(old ID)", err, provider.ErrNotFound); err != nil {
			return err
		}
	}
	got, err = p.Check(ctx, provider.CheckRequest{ID: cur.ID, Code: code})
	return wantStatus("Check(new ID, new code) after the old ID's attempts", got, err, provider.StatusApproved)
}

func checkApprove(ctx context.Context, h Harness, _ Limits) error {
	v, code, err := start(ctx, h, phone, provider.ChannelSMS)
	if err != nil {
		return err
	}
	got, err := h.Provider().(provider.Approver).Approve(ctx, v.ID)
	if err := optional("Approve", err); errors.Is(err, errOptional) {
		return err
	}
	if err := wantStatus("Approve", got, err, provider.StatusApproved); err != nil {
		return err
	}
	if got.ID != v.ID {
		return fmt.Errorf("after Approve, ID = %q, want %q", got.ID, v.ID)
	}
	return checkGone(ctx, h, v, code, "Approve")
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
	c := h.Provider().(provider.Canceler)
	v, code, err := start(ctx, h, phone, provider.ChannelSMS)
	if err != nil {
		return err
	}
	got, err := c.Cancel(ctx, v.ID)
	if err := optional("Cancel", err); errors.Is(err, errOptional) {
		return err
	}
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
	got, err := check(ctx, h, v, wrong(code))
	if err := wantStatus("Check one second before expiry", got, err, provider.StatusPending); err != nil {
		return err
	}
	h.Advance(2 * time.Second)
	if err := checkGone(ctx, h, v, code, "expiry"); err != nil {
		return err
	}
	return restart(ctx, h, v, "expiry")
}

func checkExpiresAt(ctx context.Context, h Harness, lim Limits) error {
	v, code, err := start(ctx, h, phone, provider.ChannelSMS)
	if err != nil {
		return err
	}
	answers := []provider.Verification{v}
	h.Advance(lim.Validity / 4)
	if v2, err := h.Provider().Start(ctx, provider.StartRequest{To: phone, Channel: provider.ChannelSMS}); err == nil && v2.ID == v.ID {
		answers = append(answers, v2)
	}
	got, err := check(ctx, h, v, wrong(code))
	if err == nil {
		answers = append(answers, got)
	}
	for _, a := range answers {
		if a.ExpiresAt.IsZero() {
			continue
		}
		if a.CreatedAt.IsZero() {
			return fmt.Errorf("ExpiresAt = %v with no CreatedAt", a.ExpiresAt)
		}
		if d := a.ExpiresAt.Sub(a.CreatedAt); d < lim.Validity-time.Second || d > lim.Validity+time.Second {
			return fmt.Errorf("ExpiresAt - CreatedAt = %v, want the validity %v", d, lim.Validity)
		}
		if !a.ExpiresAt.Equal(v.ExpiresAt) && !v.ExpiresAt.IsZero() {
			return fmt.Errorf("ExpiresAt changed from %v to %v for the same verification", v.ExpiresAt, a.ExpiresAt)
		}
	}
	return nil
}

func checkWithoutStart(ctx context.Context, h Harness, _ Limits) error {
	_, err := h.Provider().Check(ctx, provider.CheckRequest{To: phone2, Code: "123456"})
	return wantErr("Check with no Start", err, provider.ErrNotFound)
}

// unknownIDs are IDs no provider issues: two letters and 32 hex digits,
// a UUID, and some of no shape at all.
var unknownIDs = []string{
	"VE00000000000000000000000000000000",
	"00000000-0000-4000-8000-000000000000",
	"unknown",
	"x",
}

func checkUnknownID(ctx context.Context, h Harness, lim Limits) error {
	// A pending verification makes sure the provider is not merely empty.
	v, _, err := start(ctx, h, phone, provider.ChannelSMS)
	if err != nil {
		return err
	}
	code := strings.Repeat("1", lim.MinCodeLength)
	for _, id := range unknownIDs {
		if id == v.ID {
			continue
		}
		_, err := h.Provider().Check(ctx, provider.CheckRequest{ID: id, Code: code})
		if err := wantErr(fmt.Sprintf("Check(ID %q)", id), err, provider.ErrNotFound); err != nil {
			return err
		}
		for _, op := range byIDOps(h.Provider()) {
			_, err := op.fn(ctx, id)
			if errors.Is(err, provider.ErrUnsupported) {
				continue // implemented, but not for this provider
			}
			if err := wantErr(fmt.Sprintf("%s(%q)", op.name, id), err, provider.ErrNotFound); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkFetchPending(ctx context.Context, h Harness, _ Limits) error {
	f := h.Provider().(provider.Fetcher)
	v, code, err := start(ctx, h, phone, provider.ChannelSMS)
	if err != nil {
		return err
	}
	got, err := f.Fetch(ctx, v.ID)
	if err := optional("Fetch", err); errors.Is(err, errOptional) {
		return err
	}
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
	got, err := check(ctx, h, v, code)
	return wantStatus("Check(email, right code)", got, err, provider.StatusApproved)
}

func checkInvalidTarget(ctx context.Context, h Harness, _ Limits) error {
	reqs := []provider.StartRequest{
		{To: "", Channel: provider.ChannelSMS},
		{To: "not a number", Channel: provider.ChannelSMS},
		{To: "4155552671", Channel: provider.ChannelSMS},
		{To: email, Channel: provider.ChannelSMS},
	}
	if has(h.Provider(), NeedEmail) {
		reqs = append(reqs,
			provider.StartRequest{To: phone, Channel: provider.ChannelEmail},
			provider.StartRequest{To: "a\xff@example.com", Channel: provider.ChannelEmail},
			provider.StartRequest{To: "Alice <alice@example.com>", Channel: provider.ChannelEmail},
		)
	}
	for _, req := range reqs {
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
	v, code, err := start(ctx, h, phone, provider.ChannelSMS)
	if err != nil {
		return err
	}
	bad := []string{"", strings.Repeat("1", lim.MaxCodeLength+1), "12*34", "12&Code=1"}
	if lim.MinCodeLength > 1 {
		bad = append(bad, strings.Repeat("1", lim.MinCodeLength-1))
	}
	for len(bad) <= lim.MaxChecks { // more bad codes than wrong codes allowed
		bad = append(bad, "1*1")
	}
	for _, c := range bad {
		_, err := check(ctx, h, v, c)
		if err := wantErr(fmt.Sprintf("Check(code %q)", c), err, provider.ErrInvalidRequest); err != nil {
			return err
		}
	}
	got, err := check(ctx, h, v, code)
	return wantStatus("Check(right code) after malformed ones", got, err, provider.StatusApproved)
}

func checkCanceledContext(ctx context.Context, h Harness, lim Limits) error {
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
		_, err = check(c.ctx, h, provider.Verification{ID: unknownIDs[0], To: phone}, strings.Repeat("1", lim.MinCodeLength))
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
	resend := provider.CapabilitiesOf(p).ResendOnStart
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
			got, err := check(ctx, h, v, wrong(code))
			if err := wantStatus("concurrent wrong code", got, err, provider.StatusPending); err != nil {
				errs[i] = err
				return
			}
			got, err = p.Check(ctx, provider.CheckRequest{ID: v.ID, Code: code})
			errs[i] = wantStatus("concurrent right code", got, err, provider.StatusApproved)
		})
	}
	// Concurrent starts to one target share one verification: with
	// ResendOnStart all of them get it; without, one gets it and the others
	// a conflict.
	ids := make([]string, lim.MaxSends)
	for i := range lim.MaxSends {
		wg.Go(func() {
			v, err := p.Start(ctx, provider.StartRequest{To: phone, Channel: provider.ChannelSMS})
			if err != nil && (resend || !errors.Is(err, provider.ErrConflict)) {
				errs[users+i] = fmt.Errorf("concurrent Start to one target: %w", err)
			}
			ids[i] = v.ID
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	first := ""
	for _, id := range ids {
		switch {
		case id == "":
		case first == "":
			first = id
		case id != first:
			return fmt.Errorf("concurrent Starts to one target made verifications %q and %q", first, id)
		}
	}
	if first == "" {
		return errors.New("concurrent Starts to one target: none succeeded")
	}
	return nil
}

func checkErrorsAs(ctx context.Context, h Harness, lim Limits) error {
	_, err := h.Provider().Check(ctx, provider.CheckRequest{ID: unknownIDs[0], Code: strings.Repeat("1", lim.MinCodeLength)})
	if err == nil {
		return errors.New("no error from a Check of an unknown ID")
	}
	target := h.ErrorTarget()
	if !errors.As(err, target) {
		return fmt.Errorf("errors.As(%v, %T) = false", err, target)
	}
	return nil
}
