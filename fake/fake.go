package fake

import (
	"context"
	"errors"
	"sync"

	"github.com/verifykit/verifykit/internal/emuserver"
	"github.com/verifykit/verifykit/internal/engine"
	"github.com/verifykit/verifykit/internal/fakeconf"
	"github.com/verifykit/verifykit/internal/wire"
	"github.com/verifykit/verifykit/provider"
)

// Name is the provider name the fake reports through provider.Namer.
const Name = "fake"

// Fake is an in-memory verification provider with Twilio Verify's
// behaviour. Its zero value is not usable; create one with New. A Fake is
// safe for concurrent use.
type Fake struct {
	cfg  config
	salt uint64        // random part of IDs
	gen  *fakeconf.Gen // codes and IDs

	eng *engine.Verifications // the lifecycle, its states in memory

	mu      sync.Mutex // guards the outbox and snaSeen
	outbox  emuserver.Ring[Message]
	snaSeen map[string]snaVisit // the SNA URLs visited, by verification ID (sna.go)

	onSend  func(context.Context, Message)
	factors *engine.Factors // authenticator-app factors, see factor.go

	faults emuserver.Faults[Fault] // the fault core the emulators use too
}

// New returns a Fake configured by opts. See the package documentation for
// the defaults.
func New(opts ...Option) (*Fake, error) {
	cfg := fakeconf.Default()
	if err := emuserver.Apply("fake", &cfg, opts); err != nil {
		return nil, err
	}
	gen := cfg.NewGen()
	f := &Fake{cfg: cfg, salt: gen.Salt, gen: gen}
	f.outbox.Limit = cfg.OutboxLimit
	f.onSend, _ = cfg.OnSend.(func(context.Context, Message))
	var onFactor func(context.Context, engine.FactorEvent)
	if on, ok := cfg.OnFactor.(func(context.Context, FactorEvent)); ok {
		onFactor = func(ctx context.Context, ev engine.FactorEvent) {
			on(ctx, FactorEvent{Op: Op(ev.Op), Identity: ev.Identity, FactorID: ev.FactorID, ChallengeID: ev.ChallengeID,
				FactorStatus: ev.FactorStatus, ChallengeStatus: ev.ChallengeStatus, Err: ev.Err, At: ev.At, Lifecycle: lifecycle(ev)})
		}
	}
	f.factors = cfg.Factors(f.salt, f.factorHook, onFactor)
	var err error
	// No store: the engine keeps the verifications in memory.
	if f.eng, err = engine.New(cfg.Engine(nil, gen)); err != nil {
		return nil, err
	}
	return f, nil
}

// MustNew is like New but panics if an option is invalid. It suits tests
// and examples, where the options are constants.
func MustNew(opts ...Option) *Fake { return emuserver.Must(New(opts...)) }

// Capabilities reports what the fake does beyond Start and Check: like
// Twilio Verify, it checks by To as well as by ID, re-sends the pending code
// on a repeated Start, and accepts every channel the provider package knows.
// A *Fake also implements provider.Canceler, provider.Fetcher and
// provider.Approver.
func (f *Fake) Capabilities() provider.Capabilities {
	return provider.Capabilities{
		CheckByTo:     true,
		ResendOnStart: true,
		Channels: []provider.Channel{
			provider.ChannelSMS, provider.ChannelCall, provider.ChannelWhatsApp,
			provider.ChannelEmail, provider.ChannelSNA, provider.ChannelAuto,
		},
	}
}

// Name returns "fake".
func (f *Fake) Name() string { return Name }

// Start sends a code to req.To over req.Channel, or re-sends the code of
// the verification pending for req.To. See the package documentation for
// the rules it follows.
func (f *Fake) Start(ctx context.Context, req provider.StartRequest) (provider.Verification, error) {
	if err := ctx.Err(); err != nil {
		return provider.Verification{}, err
	}
	if err := validateStart(req, f.cfg.CustomCodes); err != nil {
		return provider.Verification{}, err
	}
	if err := magic(OpStart, fakeconf.MagicStart(req.To, req.Channel, nil)); err != nil {
		return provider.Verification{}, err
	}
	ch := fakeconf.SendChannel(req.Channel, req.To)
	fault := f.takeFault(OpStart, req.To)
	if fault != nil && !fault.Processed {
		return provider.Verification{}, fault.err(OpStart)
	}
	s, code, err := f.eng.Start(ctx, req.To, ch, req.CustomCode)
	if err != nil {
		return provider.Verification{}, f.wrap(OpStart, err)
	}
	name := f.cfg.FriendlyName
	if req.FriendlyName != "" {
		name = req.FriendlyName
	}
	out := s.View(provider.StatusPending)
	if ch == provider.ChannelSNA {
		out.SNAURL = f.snaURL(out.ID)
	}
	msg := Message{ // Body is rendered when the message is read
		To: req.To, Channel: ch, Code: code, VerificationID: out.ID,
		FriendlyName: name, Locale: req.Locale, SentAt: s.Updated,
	}
	f.mu.Lock()
	f.outbox.Add(msg)
	f.mu.Unlock()
	if f.onSend != nil {
		f.onSend(ctx, msg.rendered())
	}
	if fault != nil {
		return provider.Verification{}, fault.err(OpStart)
	}
	if req.To == NumberStartOutcomeUnknown {
		// The code was sent, but the answer is "lost".
		return provider.Verification{}, &Error{Op: OpStart, Kind: provider.ErrOutcomeUnknown, msg: "magic number: response lost"}
	}
	return out, nil
}

// wrap returns the fake's error for an engine's or a store's.
func (f *Fake) wrap(op Op, err error) error {
	var ee *engine.Error
	if errors.As(err, &ee) {
		// The wait the engine advises is not the fake's: Twilio gives none.
		return &Error{Op: op, Kind: ee.Kind, Reason: Reason(ee.Reason)}
	}
	if _, ok := err.(*Error); ok || ctxErr(err) {
		return err
	}
	return &Error{Op: op, Err: err}
}

func ctxErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// gate returns the engine's gate of an operation: the magic numbers of
// Check, and the first fault matching op and the target found. A fault that
// lets the operation take effect is kept in *after.
func (f *Fake) gate(op Op, to string, after **Fault) engine.Gate {
	return func(found string) error {
		if found != "" {
			to = found
		}
		if op == OpCheck {
			if err := magic(OpCheck, fakeconf.MagicCheck(to)); err != nil {
				return err
			}
		}
		ft := f.takeFault(op, to)
		if ft != nil && !ft.Processed {
			return ft.err(op)
		}
		*after = ft
		return nil
	}
}

// Check verifies req.Code against the verification named by req.ID or
// req.To. A wrong code gives status pending and a nil error.
func (f *Fake) Check(ctx context.Context, req provider.CheckRequest) (provider.Verification, error) {
	if err := ctx.Err(); err != nil {
		return provider.Verification{}, err
	}
	if req.ID == "" && req.To == "" {
		return provider.Verification{}, &Error{Op: OpCheck, Kind: provider.ErrInvalidRequest, Reason: ReasonMissingTarget, msg: "neither ID nor To given"}
	}
	if !wire.ValidCode(req.Code) {
		return provider.Verification{}, &Error{Op: OpCheck, Kind: provider.ErrInvalidRequest, msg: "code must be 4 to 10 letters or digits"}
	}
	var fault *Fault
	s, status, err := f.eng.Check(ctx, req.ID, req.To, req.Code, f.gate(OpCheck, req.To, &fault))
	if fault != nil {
		return provider.Verification{}, fault.err(OpCheck)
	}
	if err != nil {
		return provider.Verification{}, f.wrap(OpCheck, err)
	}
	if s.To == NumberCheckOutcomeUnknown {
		// The check took effect, but its answer is "lost".
		return provider.Verification{}, &Error{Op: OpCheck, Kind: provider.ErrOutcomeUnknown, msg: "magic number: response lost"}
	}
	return s.View(status), nil
}

// Fetch returns the pending verification with the given ID.
func (f *Fake) Fetch(ctx context.Context, id string) (provider.Verification, error) {
	return f.byIDOp(ctx, OpFetch, id, provider.StatusPending)
}

// Cancel cancels the pending verification with the given ID. It is gone
// afterwards, and its target may be sent a new code at once.
func (f *Fake) Cancel(ctx context.Context, id string) (provider.Verification, error) {
	return f.byIDOp(ctx, OpCancel, id, provider.StatusCanceled)
}

// Approve approves the pending verification with the given ID without a
// code, as Twilio's update with Status=approved does for flows that check a
// custom code themselves. It is gone afterwards.
func (f *Fake) Approve(ctx context.Context, id string) (provider.Verification, error) {
	return f.byIDOp(ctx, OpApprove, id, provider.StatusApproved)
}

func (f *Fake) byIDOp(ctx context.Context, op Op, id string, status provider.Status) (provider.Verification, error) {
	if err := ctx.Err(); err != nil {
		return provider.Verification{}, err
	}
	if id == "" {
		return provider.Verification{}, &Error{Op: op, Kind: provider.ErrInvalidRequest, msg: "empty ID"}
	}
	var fault *Fault
	var s engine.State
	var err error
	if op == OpFetch {
		s, err = f.eng.Fetch(ctx, id, f.gate(op, "", &fault))
	} else {
		s, err = f.eng.End(ctx, id, f.gate(op, "", &fault))
	}
	if fault != nil {
		return provider.Verification{}, fault.err(op)
	}
	if err != nil {
		return provider.Verification{}, f.wrap(op, err)
	}
	return s.View(status), nil
}

// Pending returns the number of verifications the fake holds. Tests use it
// to check that memory stays bounded.
func (f *Fake) Pending() int { return f.eng.Len() }

// validateStart checks a start request: a known channel, a target that
// fits it (provider.ChannelFits), a friendly name of at most 30 bytes, a
// custom code only when allowed.
func validateStart(req provider.StartRequest, customCodes bool) error {
	invalid := func(msg string) error {
		return &Error{Op: OpStart, Kind: provider.ErrInvalidRequest, msg: msg}
	}
	fits := provider.ChannelFits(req.Channel, req.To)
	switch {
	case !req.Channel.Known():
		return invalid("unknown channel")
	case !fits && req.Channel == provider.ChannelEmail:
		return invalid("channel email needs an e-mail address")
	case !fits && req.Channel == provider.ChannelAuto:
		return invalid("To must be an E.164 phone number or an e-mail address")
	case !fits:
		return invalid("To must be an E.164 phone number")
	case len(req.FriendlyName) > 30:
		return invalid("friendly name longer than 30 bytes")
	}
	if req.CustomCode != "" {
		if !customCodes {
			return &Error{Op: OpStart, Kind: provider.ErrUnsupported, Reason: ReasonCustomCodesDisabled, msg: "custom codes are not enabled"}
		}
		if !wire.ValidCode(req.CustomCode) {
			return invalid("custom code must be 4 to 10 letters or digits")
		}
	}
	return nil
}
