package verify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/verifykit/verifykit/internal/mask"
	"github.com/verifykit/verifykit/internal/nilness"
	"github.com/verifykit/verifykit/provider"
)

// Client verifies phone numbers and e-mail addresses through a provider. It
// is safe for concurrent use; create one with New and share it.
type Client struct {
	p    provider.Provider
	caps provider.Capabilities
	cfg  config
	norm normCache
}

// New returns a Client that uses p. See the With… options for the
// defaults. A nil p, or an interface holding a nil pointer (such as the
// provider selfhosted.New returns beside an error), is an error.
func New(p provider.Provider, opts ...Option) (*Client, error) {
	if nilness.Is(p) {
		return nil, errors.New("verify: New: nil provider")
	}
	cfg := config{minCode: 1, maxCode: 64}
	for _, opt := range opts {
		if opt == nil {
			return nil, errors.New("verify: New: nil option")
		}
		if err := opt(&cfg); err != nil {
			return nil, err
		}
	}
	if err := cfg.policy.init(); err != nil {
		return nil, err
	}
	if cfg.name == "" {
		if n, ok := p.(provider.Namer); ok {
			cfg.name = n.Name()
		} else {
			cfg.name = fmt.Sprintf("%T", p)
		}
	}
	return &Client{p: p, caps: provider.CapabilitiesOf(p), cfg: cfg}, nil
}

// Capabilities returns what the client's provider declared it can do (see
// provider.Capabilities). Methods that need a capability the provider lacks
// fail with ErrUnsupported.
func (c *Client) Capabilities() provider.Capabilities { return c.caps.Clone() }

// Provider returns the provider the client uses, for access to its own
// methods (such as the fake's outbox).
func (c *Client) Provider() provider.Provider { return c.p }

// Normalize returns the form in which the client sends the phone number or
// e-mail address to to the provider: E.164 for a phone number, the address
// with its domain lower-cased for an e-mail. Use it to store a user's
// number once it is verified. It fails with ErrInvalidRequest for input the
// client would refuse.
func (c *Client) Normalize(to string) (string, error) {
	t, err := c.target(to, false)
	if err != nil {
		return "", &Error{Op: "normalize", Provider: c.cfg.name, Target: mask.Target(to), Err: err}
	}
	return t.value, nil
}

// Start sends a verification code to to over channel ch. to is a phone
// number (in international form, or national form with WithDefaultRegion)
// for every channel but ChannelEmail, which needs an e-mail address;
// ChannelAuto, and channels this package does not know, take either (see
// provider.ChannelFits). The result has status StatusPending; keep its ID.
//
// When a verification to to is already pending, a provider with
// Capabilities().ResendOnStart re-sends its code and returns it again (same
// ID); others fail with ErrConflict.
//
// # Errors
//
// Input the client refuses gives ErrInvalidRequest and sends nothing; so
// does a channel the provider does not declare and this package does not
// know. A known channel the provider declares it cannot use gives
// ErrUnsupported. Once the provider's send limit for the target is spent,
// Start gives ErrTooManySends.
//
// ErrOutcomeUnknown means a code may have been sent, and there is no ID to
// keep. Do not start again at once, which would spend another send. Ask
// the user for the code: with Capabilities().CheckByTo, check it with
// Check. Otherwise RecoverStart recovers the ID.
func (c *Client) Start(ctx context.Context, to string, ch Channel, opts *StartOptions) (Verification, error) {
	ctx = c.enter(ctx, "start")
	begin := c.begin()
	if opts == nil {
		opts = &StartOptions{}
	}
	t, err := c.target(to, c.cfg.refuseLandlines)
	switch {
	case err != nil:
	case ch == "":
		err = invalid("empty channel")
	case !c.caps.Supports(ch) && ch.Known():
		err = fmt.Errorf("%w: provider %s does not deliver over channel %s", ErrUnsupported, c.cfg.name, ch)
	case !c.caps.Supports(ch):
		err = invalid("unknown channel")
	case !provider.ChannelFits(ch, t.value) && ch == ChannelEmail:
		err = invalid("channel email needs an e-mail address")
	case !provider.ChannelFits(ch, t.value):
		err = invalid("channel " + string(ch) + " needs a phone number")
	case c.cfg.refuseLandlines && t.landline && (ch == ChannelSMS || ch == ChannelWhatsApp):
		err = &inputError{msg: "landline numbers cannot receive " + string(ch) + "; use channel call", undeliverable: true}
	}
	var v Verification
	var pol *policyReq
	if err == nil {
		if err = ctx.Err(); err == nil {
			pol, err = c.startPolicy(ctx, t, ch, opts.CallerKeys)
		}
		if err == nil {
			v, err = c.p.Start(ctx, provider.StartRequest{
				To:           t.value,
				Channel:      ch,
				Locale:       opts.Locale,
				FriendlyName: opts.FriendlyName,
				CustomCode:   opts.CustomCode,
				Reference:    opts.Reference,
				Extensions:   opts.Extensions,
			})
			if err == nil {
				c.rememberTarget(ctx, v.ID, t.value)
			}
		}
	}
	skipped := c.finish(ctx, pol, keptAfterStart(err))
	named := to
	if t.value != "" {
		named = t.value
	}
	country := ""
	if c.cfg.hook != nil && t.value != "" && !t.email {
		country = regionOf(t.value)
	}
	return c.report(ctx, "start", ch, c.masked(named, err), country, begin, v, err, skipped)
}

// Check verifies the code the user typed for the verification pending for
// to (in any form Start accepts). Spaces and dashes in code are ignored.
// It needs a provider with Capabilities().CheckByTo; others give
// ErrUnsupported, and the application checks with CheckID.
//
// A wrong code is not an error: the result has status StatusPending and the
// user may try again. The right code gives StatusApproved; use the
// result's Approved method. After that the verification is gone, and
// checking it again gives ErrNotFound.
//
// # Errors
//
// A code that cannot be a code gives ErrInvalidRequest and does not count
// as a wrong code. ErrNotFound means there is no pending verification: it
// expired, was canceled, or was already approved. ErrTooManyChecks means
// the wrong-code limit is spent. ErrOutcomeUnknown means the provider may
// have approved the code: do not tell the user it was wrong. A retry then
// answers ErrNotFound if the code was approved (the verification is gone),
// which does not prove it was; RecoverCheck tells what can be known.
func (c *Client) Check(ctx context.Context, to, code string, opts *CheckOptions) (Verification, error) {
	ctx = c.enter(ctx, "check")
	begin := c.begin()
	t, err := c.target(to, false)
	if err == nil {
		if !c.caps.CheckByTo {
			err = fmt.Errorf("%w: provider %s checks by verification ID only; use CheckID", ErrUnsupported, c.cfg.name)
		}
	}
	named := to
	if err == nil {
		named = t.value
	}
	return c.check(ctx, begin, provider.CheckRequest{To: t.value}, named, true, code, opts, err)
}

// CheckID is like Check, but names the verification by the ID that Start
// returned instead of by its target. Prefer it when the application stored
// the ID: it cannot match a different verification to the same target.
func (c *Client) CheckID(ctx context.Context, id, code string, opts *CheckOptions) (Verification, error) {
	ctx = c.enter(ctx, "check")
	begin := c.begin()
	var err error
	if id, err = cleanID(id); err != nil {
		return c.done(ctx, "check", "", "", begin, Verification{}, err)
	}
	return c.check(ctx, begin, provider.CheckRequest{ID: id}, id, false, code, opts, nil)
}

// check is Check and CheckID. target names the verification in errors
// and events; it is masked there when masks is set.
func (c *Client) check(ctx context.Context, begin time.Time, req provider.CheckRequest, target string, masks bool, code string, opts *CheckOptions, err error) (Verification, error) {
	if err == nil {
		req.Code, err = cleanCode(code, c.cfg.minCode, c.cfg.maxCode)
	}
	return c.checkWith(ctx, begin, req, target, masks, opts, err, c.p.Check)
}

// checkWith is check once the code is clean, through call: the provider's
// Check or CheckSNA.
func (c *Client) checkWith(ctx context.Context, begin time.Time, req provider.CheckRequest, target string, masks bool, opts *CheckOptions, err error,
	call func(context.Context, provider.CheckRequest) (Verification, error)) (Verification, error) {
	var keys map[string]string
	if opts != nil {
		req.Extensions = opts.Extensions
		keys = opts.CallerKeys
	}
	var v Verification
	var pol *policyReq
	if err == nil {
		if err = ctx.Err(); err == nil {
			pol, err = c.checkPolicy(ctx, req.To, req.ID, keys)
		}
		if err == nil {
			v, err = call(ctx, req)
			if err == nil && v.Approved() && c.cfg.policy.fraud != nil {
				c.fraudLearn(ctx, req.To, req.ID)
			}
		}
	}
	skipped := c.finish(ctx, pol, keptAfterCheck(v, err))
	if masks {
		target = c.masked(target, err)
	}
	return c.report(ctx, "check", v.Channel, target, "", begin, v, err, skipped)
}

// CheckSNA checks the silent network auth verification with the given ID
// (one Start began over ChannelSNA) once the device has opened the
// verification's SNAURL over its mobile data. token is what the device got
// back from the URL, when the provider hands one to pass on (a Vonage
// silent-auth code, a Twilio SNA client token; see pushdevice.OpenSNA), and
// empty otherwise; like a code it is a secret and never logged. It needs a
// provider that implements provider.SNAChecker; others give
// ErrUnsupported.
//
// The result is approved when the carrier confirmed the number. Otherwise
// the error says what to do, each told apart with errors.Is:
//
//   - ErrNotYet: the device has not completed its step yet. Nothing
//     failed and nothing was wrong; check again shortly. A check that
//     answers ErrNotYet is not counted against the check budgets.
//   - ErrUndeliverable: the silent attempt failed; another channel (SMS)
//     may still reach the number. Start again over that channel.
//   - ErrInvalidRequest: the number itself is bad; do not fall back.
//   - ErrOutcomeUnknown: the check may have approved the verification;
//     do not assume either outcome, and do not fall back.
//
// FallBack(err) is the fall-back decision in one call.
func (c *Client) CheckSNA(ctx context.Context, id, token string, opts *CheckOptions) (Verification, error) {
	ctx = c.enter(ctx, "check")
	begin := c.begin()
	var err error
	if id, err = cleanID(id); err != nil {
		return c.done(ctx, "check", "", "", begin, Verification{}, err)
	}
	sc, ok := c.p.(provider.SNAChecker)
	switch {
	case !ok:
		err = fmt.Errorf("%w: provider %s cannot check silent network auth", ErrUnsupported, c.cfg.name)
	case !cleanToken(token):
		err = invalid("the device's token must be at most 1024 printable ASCII characters")
	}
	var call func(context.Context, provider.CheckRequest) (Verification, error)
	if ok {
		call = sc.CheckSNA
	}
	return c.checkWith(ctx, begin, provider.CheckRequest{ID: id, Code: token}, id, false, opts, err, call)
}

// cleanToken reports whether token could be what a device got back from an
// SNA URL: at most 1024 printable ASCII characters, or nothing.
func cleanToken(token string) bool {
	if len(token) > 1024 {
		return false
	}
	for i := range len(token) {
		if token[i] <= ' ' || token[i] >= 0x7f {
			return false
		}
	}
	return true
}

// Cancel cancels the pending verification with the given ID, so its code
// no longer works and a new Start sends a new code. It gives
// ErrUnsupported if the provider cannot cancel, and ErrNotFound if the
// verification is no longer pending.
func (c *Client) Cancel(ctx context.Context, id string) (Verification, error) {
	ctx = c.enter(ctx, "cancel")
	begin := time.Now()
	var v Verification
	id, err := cleanID(id)
	if err == nil {
		if cp, ok := c.p.(provider.Canceler); !ok {
			err = fmt.Errorf("%w: provider %s cannot cancel", ErrUnsupported, c.cfg.name)
		} else if err = ctx.Err(); err == nil {
			v, err = cp.Cancel(ctx, id)
		}
	}
	return c.done(ctx, "cancel", v.Channel, id, begin, v, err)
}

// Fetch returns the pending verification with the given ID. It gives
// ErrUnsupported if the provider cannot fetch, and ErrNotFound if the
// verification is no longer pending. After ErrOutcomeUnknown from Check,
// ErrNotFound from Fetch suggests (but does not prove) the code was
// approved; the verification may also have expired.
func (c *Client) Fetch(ctx context.Context, id string) (Verification, error) {
	ctx = c.enter(ctx, "fetch")
	begin := time.Now()
	var v Verification
	id, err := cleanID(id)
	if err == nil {
		if fp, ok := c.p.(provider.Fetcher); !ok {
			err = fmt.Errorf("%w: provider %s cannot fetch", ErrUnsupported, c.cfg.name)
		} else if err = ctx.Err(); err == nil {
			v, err = fp.Fetch(ctx, id)
		}
	}
	return c.done(ctx, "fetch", v.Channel, id, begin, v, err)
}

// Approve approves the pending verification with the given ID without a
// code, for applications that send and check their own code
// (StartOptions.CustomCode). It gives ErrUnsupported if the provider cannot
// approve (see provider.Approver), and ErrNotFound if the verification is
// no longer pending.
//
// After ErrOutcomeUnknown the approval may have taken effect, and a retry
// then answers ErrNotFound; RecoverCheck tells what can be known.
func (c *Client) Approve(ctx context.Context, id string) (Verification, error) {
	ctx = c.enter(ctx, "approve")
	begin := time.Now()
	var v Verification
	id, err := cleanID(id)
	if err == nil {
		if ap, ok := c.p.(provider.Approver); !ok {
			err = fmt.Errorf("%w: provider %s cannot approve without a code", ErrUnsupported, c.cfg.name)
		} else if err = ctx.Err(); err == nil {
			v, err = ap.Approve(ctx, id)
		}
	}
	return c.done(ctx, "approve", v.Channel, id, begin, v, err)
}

// cleanID checks that id could be a verification ID: 1 to 64 printable
// ASCII characters other than '/', '?', '#', '%' and space, so it is safe
// in a URL path and a log line.
func cleanID(id string) (string, error) {
	if id == "" || len(id) > 64 {
		return "", invalid("verification ID must be 1 to 64 characters")
	}
	for i := range len(id) {
		c := id[i]
		if c <= ' ' || c >= 0x7f || c == '/' || c == '?' || c == '#' || c == '%' {
			return "", invalid("verification ID contains a character that cannot be in an ID")
		}
	}
	return id, nil
}

// observed reports whether the client reports successes too (to a logger
// or a hook), not only failures (in errors).
func (c *Client) observed() bool { return c.cfg.logger != nil || c.cfg.hook != nil }

// enter runs the begin hook, if any, and returns the context the
// operation runs with.
func (c *Client) enter(ctx context.Context, op string) context.Context {
	if c.cfg.beginHook == nil {
		return ctx
	}
	return c.cfg.beginHook(ctx, op)
}

// begin returns when an operation began, for the Duration of its Event;
// without a logger or a hook nothing reads it, and the clock is not read.
func (c *Client) begin() time.Time {
	if !c.observed() {
		return time.Time{}
	}
	return time.Now()
}

// masked masks the target s for report, but only when the report will
// show it: an error, a log record or an event.
func (c *Client) masked(s string, err error) string {
	if err == nil && !c.observed() {
		return ""
	}
	return mask.Target(s)
}

// done wraps err, reports the operation to the logger and the hook, and
// returns the result.
func (c *Client) done(ctx context.Context, op string, ch Channel, target string, begin time.Time, v Verification, err error) (Verification, error) {
	return c.report(ctx, op, ch, target, "", begin, v, err, nil)
}

// report is done, with the policy store failure let through under
// WithPolicyFailOpen, if any.
func (c *Client) report(ctx context.Context, op string, ch Channel, target, country string, begin time.Time, v Verification, err, skipped error) (Verification, error) {
	if err != nil {
		err = &Error{Op: op, Provider: c.cfg.name, Target: target, Err: err}
		v = Verification{}
	}
	if c.cfg.logger == nil && c.cfg.hook == nil {
		return v, err
	}
	e := Event{
		Op:        op,
		Provider:  c.cfg.name,
		Channel:   ch,
		Target:    target,
		Country:   country,
		Status:    v.Status,
		Code:      CodeOf(err),
		Err:       err,
		Duration:  time.Since(begin),
		PolicyErr: skipped,
	}
	if c.cfg.logger != nil {
		e.log(ctx, c.cfg.logger)
	}
	if c.cfg.hook != nil {
		c.cfg.hook(ctx, e)
	}
	return v, err
}

// Event describes one operation of a Client, for WithHook.
type Event struct {
	// Op is the operation: "start", "check", "cancel", "fetch", "approve"
	// or "recover check"; for factors "enroll factor", "confirm factor", "check
	// factor", "fetch factor", "list factors", "delete factor", "delete
	// identity" or "fetch challenge" (Target is then the masked identity,
	// followed by "/" and the factor or challenge ID when there is one, and
	// Status the factor's or challenge's status).
	Op string
	// Provider is the provider's name.
	Provider string
	// Channel is the channel, when known.
	Channel Channel
	// Target is the masked phone number or e-mail address, or the
	// verification ID.
	Target string
	// Country is the region of the phone number a start went to (ISO
	// 3166-1 alpha-2, such as "GB"; "001" for international services), ""
	// for other operations, e-mail addresses and numbers whose region is
	// unknown. It is set only when there is a hook: working it out reads
	// the numbering metadata (some 40 allocations for a number whose
	// calling code several regions share, such as +1 or +44), a cost
	// small beside the send but paid by every start with a hook.
	Country string
	// Status is the verification's status when the operation succeeded.
	Status Status
	// Code classifies the outcome: CodeOK, or the error's code.
	Code Code
	// Err is the error the operation returned, or nil. Its text contains no
	// code or credential, and masks the target.
	Err error
	// Duration is how long the operation took.
	Duration time.Duration
	// PolicyErr is the policy store's failure when the client went ahead
	// without its policies (WithPolicyFailOpen); nil otherwise. A refusal
	// by a policy is in Err, as a *PolicyError.
	PolicyErr error
}

func (e Event) log(ctx context.Context, l *slog.Logger) {
	level, msg := slog.LevelInfo, "verify "+e.Op
	if e.Err != nil || e.PolicyErr != nil {
		level = slog.LevelWarn
	}
	if !l.Enabled(ctx, level) {
		return
	}
	attrs := []slog.Attr{
		slog.String("op", e.Op),
		slog.String("provider", e.Provider),
		slog.String("target", e.Target),
		slog.Duration("duration", e.Duration),
		slog.String("code", string(e.Code)),
	}
	if e.Channel != "" {
		attrs = append(attrs, slog.String("channel", string(e.Channel)))
	}
	if e.Status != "" {
		attrs = append(attrs, slog.String("status", string(e.Status)))
	}
	if e.Err != nil {
		attrs = append(attrs, slog.String("error", e.Err.Error()))
	}
	attrs = e.policyAttrs(attrs)
	l.LogAttrs(ctx, level, msg, attrs...)
}
