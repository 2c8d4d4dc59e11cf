package route

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nyaruka/phonenumbers/v2"
	"github.com/verifykit/verifykit/internal/mask"
	"github.com/verifykit/verifykit/internal/nilness"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/store"
)

// Name is the provider name a Router reports through provider.Namer.
const Name = "route"

// sep separates a route's name from the inner provider's ID in the IDs a
// Router returns.
const sep = ':'

// Route is one provider of a Router and the verifications it serves.
type Route struct {
	// Name names the route in IDs, events and logs: 1 to 32 lower-case
	// letters, digits, '-' or '_', unique in the Router. Empty means the
	// provider's name (provider.Namer).
	Name string
	// Provider is the provider the route sends to.
	Provider provider.Provider
	// Channels limits the route to these channels; empty means every
	// channel the provider declares (or, without a declaration, the known
	// ones).
	Channels []provider.Channel
	// Countries limits the route to phone numbers of these regions, as
	// ISO 3166-1 alpha-2 codes ("GB", "US"); Prefixes to numbers starting
	// with one of these E.164 prefixes ("+44", "+1415"). A number passes
	// when it matches either list; empty lists let every number through.
	// E-mail addresses pass only routes with neither list.
	Countries, Prefixes []string
}

// Event reports one call a Router made to one of its routes, for
// WithHook.
type Event struct {
	// Op is the operation: "start", "check", "cancel" or "fetch".
	Op string
	// Route is the name of the route that was called.
	Route string
	// ID is the Router's ID of the verification, when known.
	ID string
	// Err is the call's error, nil on success.
	Err error
	// FailedOver is true when Err let the Router try the next route: it
	// proves nothing was sent.
	FailedOver bool
	// Duration is how long the call took.
	Duration time.Duration
}

// Router is a provider built from other providers: it routes each start
// by channel and by the destination's country or prefix, fails over to
// the next route only when the failure proves nothing was sent, and sends
// every later call of a verification back to the provider that started it.
// It implements provider.Provider, provider.Canceler, provider.Fetcher,
// provider.Approver, provider.Namer and provider.CapabilityReporter, and
// answers ErrUnsupported to a Cancel, Fetch or Approve of a verification
// whose route's provider lacks the operation (see provider's doc on
// optional operations). It is safe for concurrent use.
type Router struct {
	routes []route
	byName map[string]int
	caps   provider.Capabilities
	hook   func(context.Context, Event)
	logger *slog.Logger
	now    func() time.Time
	sticky time.Duration
	byTo   bool             // CheckByTo through the index
	snaTo  provider.Channel // WithSNAFallback's channel, or ""
	bare   int              // the route of IDs that name none (WithUnprefixedIDs), or -1
	region bool             // some route routes by country
	index  index
	store  *storeIndex // when WithStore: the memory lives there instead
}

// route is a Route, ready to match.
type route struct {
	name      string
	prefix    string // name + sep, prepended to IDs
	p         provider.Provider
	channels  []provider.Channel // empty: every channel
	countries []string
	prefixes  []string
	caps      provider.Capabilities
}

// Option configures a Router.
type Option func(*config) error

type config struct {
	bare    string
	hook    func(context.Context, Event)
	logger  *slog.Logger
	now     func() time.Time
	sticky  time.Duration
	size    int
	checkTo bool
	store   store.Store
	snaTo   provider.Channel
}

// WithHook makes the Router call fn after every call to a route, on the
// calling goroutine, with the caller's context (so that a tracer or a
// request-scoped logger sees the call it belongs to). fn must be safe for
// concurrent use and quick.
func WithHook(fn func(ctx context.Context, e Event)) Option {
	return func(c *config) error {
		if fn == nil {
			return errors.New("route: WithHook: nil function")
		}
		c.hook = fn
		return nil
	}
}

// WithLogger logs every call to a route to l: Debug for successes, Info
// for failovers, Warn for other failures. Records carry the operation,
// the route, the ID, the outcome and the duration; never a code or a full
// target.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return errors.New("route: WithLogger: nil logger")
		}
		c.logger = l
		return nil
	}
}

// WithSticky sets how long the Router remembers which route serves the
// pending verification to a target, so that a repeated Start goes to the
// same provider rather than starting a second verification elsewhere. The
// default is 10 minutes; it keeps at most size targets (default 100000), the oldest
// forgotten first.
func WithSticky(d time.Duration, size int) Option {
	return func(c *config) error {
		if d <= 0 || size < 1 {
			return fmt.Errorf("route: WithSticky: %v and %d must be positive", d, size)
		}
		c.sticky, c.size = d, size
		return nil
	}
}

// WithCheckByTo makes the Router accept checks keyed by To alone, and
// declare CheckByTo: it looks the target up in its memory of pending
// verifications (see WithSticky) and checks by ID. That memory is this
// process's unless WithStore shares it between replicas.
func WithCheckByTo() Option {
	return func(c *config) error {
		c.checkTo = true
		return nil
	}
}

// WithStore keeps the Router's memory of pending verifications (see
// WithSticky and WithCheckByTo) in st instead of this process, so that
// every replica sharing st routes a repeated start to the same provider
// and can check by To. Targets are stored only as SHA-256 hashes (not
// keyed: whoever reads the store can test a candidate number). A store
// failure never sends anything twice: a start that cannot read the memory
// goes by the routes' order, one that cannot write it still succeeds (and
// is reported to the hook's logger), and a check by To that cannot read it
// fails with the store's error (ErrUnavailable).
func WithStore(st store.Store) Option {
	return func(c *config) error {
		if st == nil {
			return errors.New("route: WithStore: nil store")
		}
		c.store = st
		return nil
	}
}

// WithUnprefixedIDs sends every ID that names no route of the Router —
// the IDs an application stored before it put a Router in front of its
// provider — to the route named name, unchanged. The answers keep the ID
// as the caller gave it. Without this option such an ID is unknown
// (ErrNotFound).
func WithUnprefixedIDs(name string) Option {
	return func(c *config) error {
		if name == "" {
			return errors.New("route: WithUnprefixedIDs: empty route name")
		}
		c.bare = name
		return nil
	}
}

// WithSNAFallback makes a start over silent network auth (ChannelSNA)
// that no route could take fall back to channel ch (ChannelSMS, say): when
// every route that takes ChannelSNA for the target failed in a way that
// proves nothing was sent (ErrUnavailable, ErrUndeliverable or
// ErrUnsupported, the failures that pass a start to the next route), or
// none takes it, the Router starts over ch instead, once, by the same
// rules. It never falls back after a failure that says the number itself
// is bad (ErrInvalidRequest, such as Twilio's 60540), after one that may
// have been processed (ErrOutcomeUnknown, a context's end), or after any
// other failure. The answer's Channel tells the application which
// channel was used.
//
// The silent attempt can also fail later, at the check: CheckSNA then
// returns the provider's error, and provider.FallBack(err) says whether
// to start again over another channel. Such a start goes to the route
// that served the silent attempt (see WithSticky), which re-sends on the
// same verification where the provider does (Capabilities.ResendOnStart),
// so nothing is sent twice.
func WithSNAFallback(ch provider.Channel) Option {
	return func(c *config) error {
		if ch == "" || ch == provider.ChannelSNA {
			return errors.New("route: WithSNAFallback: the channel must be another one than sna")
		}
		c.snaTo = ch
		return nil
	}
}

// WithClock makes the Router read time from now (for its memory of
// pending verifications).
func WithClock(now func() time.Time) Option {
	return func(c *config) error {
		if now == nil {
			return errors.New("route: WithClock: nil clock")
		}
		c.now = now
		return nil
	}
}

// New returns a Router over routes, tried in order.
func New(routes []Route, opts ...Option) (*Router, error) {
	cfg := config{now: time.Now, sticky: 10 * time.Minute, size: 100000}
	for _, o := range opts {
		if o == nil {
			return nil, errors.New("route: nil option")
		}
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	if len(routes) == 0 {
		return nil, errors.New("route: no routes")
	}
	r := &Router{byName: map[string]int{}, hook: cfg.hook, logger: cfg.logger, now: cfg.now,
		sticky: cfg.sticky, byTo: cfg.checkTo, snaTo: cfg.snaTo}
	r.index.init(cfg.size)
	if cfg.store != nil {
		r.store = &storeIndex{st: cfg.store}
	}
	r.caps.ResendOnStart = true
	for i, rt := range routes {
		if nilness.Is(rt.Provider) {
			return nil, fmt.Errorf("route: route %d: nil provider", i)
		}
		name := rt.Name
		if name == "" {
			if n, ok := rt.Provider.(provider.Namer); ok {
				name = n.Name()
			}
		}
		if !validName(name) {
			return nil, fmt.Errorf("route: route %d: name %q is not 1 to 32 lower-case letters, digits, '-' or '_'", i, name)
		}
		if _, dup := r.byName[name]; dup {
			return nil, fmt.Errorf("route: route %d: name %q used twice", i, name)
		}
		in := route{name: name, prefix: name + string(sep), p: rt.Provider, caps: provider.CapabilitiesOf(rt.Provider)}
		for _, ch := range rt.Channels {
			if !in.caps.Supports(ch) {
				return nil, fmt.Errorf("route: route %s: the provider does not declare channel %q", name, ch)
			}
		}
		in.channels = slices.Clone(rt.Channels)
		for _, c := range rt.Countries {
			if len(c) != 2 || strings.ToUpper(c) != c || !phonenumbers.GetSupportedRegions()[c] {
				return nil, fmt.Errorf("route: route %s: %q is not a supported ISO 3166-1 alpha-2 region code", name, c)
			}
			in.countries = append(in.countries, c)
		}
		for _, p := range rt.Prefixes {
			if len(p) < 2 || len(p) > 8 || p[0] != '+' || strings.Trim(p[1:], "0123456789") != "" {
				return nil, fmt.Errorf("route: route %s: prefix %q is not '+' and 1 to 7 digits", name, p)
			}
			in.prefixes = append(in.prefixes, p)
		}
		r.byName[name] = len(r.routes)
		r.routes = append(r.routes, in)
		r.caps.ResendOnStart = r.caps.ResendOnStart && in.caps.ResendOnStart
		for _, ch := range in.serves() {
			if !slices.Contains(r.caps.Channels, ch) {
				r.caps.Channels = append(r.caps.Channels, ch)
			}
		}
	}
	r.caps.CheckByTo = cfg.checkTo
	r.bare = -1
	if cfg.bare != "" {
		i, ok := r.byName[cfg.bare]
		if !ok {
			return nil, fmt.Errorf("route: WithUnprefixedIDs: no route named %q", cfg.bare)
		}
		r.bare = i
	}
	for i := range r.routes {
		r.region = r.region || len(r.routes[i].countries) > 0
	}
	return r, nil
}

// serves returns the channels a route takes.
func (rt *route) serves() []provider.Channel {
	if len(rt.channels) > 0 {
		return rt.channels
	}
	if len(rt.caps.Channels) > 0 {
		return rt.caps.Channels
	}
	return []provider.Channel{provider.ChannelSMS, provider.ChannelCall, provider.ChannelWhatsApp,
		provider.ChannelEmail, provider.ChannelSNA, provider.ChannelAuto}
}

func validName(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Name returns "route".
func (r *Router) Name() string { return Name }

// Capabilities reports what every route can do: CheckByTo with
// WithCheckByTo, ResendOnStart when every route re-sends, and the union of
// the routes' channels.
func (r *Router) Capabilities() provider.Capabilities { return r.caps.Clone() }

// Routes returns the names of the routes (each Route's Name, or its
// provider's name), in the order given to New, in a new slice.
func (r *Router) Routes() []string {
	out := make([]string, len(r.routes))
	for i := range r.routes {
		out[i] = r.routes[i].name
	}
	return out
}

// ServedBy returns the name of the route that serves the verification
// with the given ID (an ID the Router returned), or "".
func ServedBy(id string) string {
	name, _, ok := strings.Cut(id, string(sep))
	if !ok || !validName(name) {
		return ""
	}
	return name
}

// matches reports whether rt takes a start over ch to to. region is the
// number's region, computed once by the caller ("" for an address or when
// no route needs it).
func (rt *route) matches(ch provider.Channel, to, region string) bool {
	if len(rt.channels) > 0 && !slices.Contains(rt.channels, ch) {
		return false
	}
	if len(rt.countries) == 0 && len(rt.prefixes) == 0 {
		return true
	}
	if !provider.IsPhone(to) {
		return false
	}
	for _, p := range rt.prefixes {
		if strings.HasPrefix(to, p) {
			return true
		}
	}
	return region != "" && slices.Contains(rt.countries, region)
}

// regionOf returns the region of a phone number: the one its numbering
// plan assigns it to, or, for a number the metadata does not know as
// valid, the main region of its country calling code ("GB" for +44). A
// calling code that only one region uses settles it without parsing the
// number.
func regionOf(to string) string {
	for n := 1; n <= 3 && n < len(to); n++ {
		cc := 0
		for _, d := range to[1 : 1+n] {
			cc = cc*10 + int(d-'0')
		}
		if regions := phonenumbers.GetRegionCodesForCountryCode(cc); len(regions) == 1 && regions[0] != "001" {
			return regions[0]
		} else if len(regions) > 1 {
			break
		}
	}
	n, err := phonenumbers.Parse(to, "")
	if err != nil {
		return ""
	}
	if r := phonenumbers.GetRegionCodeForNumber(n); r != "" && r != "ZZ" {
		return r
	}
	if r := phonenumbers.GetRegionCodeForCountryCode(int(n.GetCountryCode())); r != "ZZ" {
		return r
	}
	return ""
}

// failsOver reports whether err proves that nothing was sent, so the next
// route may be tried: ErrUnavailable, ErrUndeliverable or ErrUnsupported,
// and never anything that may have been processed.
func failsOver(err error) bool {
	if errors.Is(err, provider.ErrOutcomeUnknown) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	return errors.Is(err, provider.ErrUnavailable) || errors.Is(err, provider.ErrUndeliverable) || errors.Is(err, provider.ErrUnsupported)
}

// Start sends a code through the first route that takes the request's
// channel and target, or, when the target has a pending verification the
// Router knows of, through the route that serves it. A route that fails
// with ErrUnavailable, ErrUndeliverable or ErrUnsupported — failures that
// prove nothing was sent — passes the start to the next matching route;
// any other failure, ErrOutcomeUnknown first of all, ends the start. The
// verification's ID names its route (see ServedBy).
func (r *Router) Start(ctx context.Context, req provider.StartRequest) (provider.Verification, error) {
	if err := ctx.Err(); err != nil {
		return provider.Verification{}, err
	}
	region := ""
	if r.region && provider.IsPhone(req.To) {
		region = regionOf(req.To)
	}
	first := -1
	if e, ok, _ := r.remembered(ctx, req.To); ok && r.routes[e.route].matches(req.Channel, req.To, region) {
		first = e.route
	}
	var lastErr error
	var tried int
	badNumber := false // a failure said the number itself is bad
	for k := -1; k < len(r.routes); k++ {
		i := k
		if k == -1 {
			if first < 0 {
				continue
			}
			i = first
		} else if i == first || !r.routes[i].matches(req.Channel, req.To, region) {
			continue
		}
		rt := &r.routes[i]
		t0 := r.clock()
		v, err := rt.p.Start(ctx, req)
		tried++
		if err == nil {
			v.ID = rt.prefix + v.ID
			r.remember(ctx, req.To, entry{route: i, id: v.ID})
			r.report(ctx, "start", rt.name, v.ID, nil, false, t0)
			return v, nil
		}
		over := failsOver(err)
		r.report(ctx, "start", rt.name, "", err, over, t0)
		lastErr = &Error{Op: "start", Route: rt.name, Err: err}
		if !over {
			return provider.Verification{}, lastErr
		}
		badNumber = badNumber || errors.Is(err, provider.ErrInvalidRequest)
	}
	if req.Channel == provider.ChannelSNA && r.snaTo != "" && !badNumber && ctx.Err() == nil {
		// Nothing was sent over sna: one start over the fallback channel.
		req.Channel = r.snaTo
		return r.Start(ctx, req)
	}
	if tried == 0 {
		return provider.Verification{}, &Error{Op: "start", Err: fmt.Errorf("%w: no route takes channel %s to %s", provider.ErrUnsupported, req.Channel, mask.Target(req.To))}
	}
	return provider.Verification{}, lastErr
}

// outer returns the Router's ID for the inner ID got from rt, reusing id
// (the Router's ID for inner) when they match.
func (r *Router) outer(rt *route, got, inner, id string) string {
	switch got {
	case "":
		return ""
	case inner:
		return id
	}
	return rt.prefix + got
}

// lookup finds the route and the inner ID of a Router ID, or, with
// WithUnprefixedIDs, of an ID that names no route.
func (r *Router) lookup(op, id string) (*route, string, error) {
	name, inner, ok := strings.Cut(id, string(sep))
	if ok {
		if i, known := r.byName[name]; known && inner != "" {
			return &r.routes[i], inner, nil
		}
	}
	if r.bare >= 0 && id != "" {
		return &r.routes[r.bare], id, nil
	}
	return nil, "", &Error{Op: op, Err: fmt.Errorf("%w: %q is not an ID this router issued", provider.ErrNotFound, id)}
}

// Check checks a code with the route that started the verification. It
// never fails over: a check goes only where its verification lives. A
// check by To alone needs WithCheckByTo.
func (r *Router) Check(ctx context.Context, req provider.CheckRequest) (provider.Verification, error) {
	return r.check(ctx, req, func(p provider.Provider) (func(context.Context, provider.CheckRequest) (provider.Verification, error), bool) {
		return p.Check, true
	})
}

// check is Check and CheckSNA: method returns the route provider's
// operation, and false when it lacks it.
func (r *Router) check(ctx context.Context, req provider.CheckRequest,
	method func(provider.Provider) (func(context.Context, provider.CheckRequest) (provider.Verification, error), bool)) (provider.Verification, error) {
	if err := ctx.Err(); err != nil {
		return provider.Verification{}, err
	}
	id := req.ID
	if id == "" {
		if req.To == "" {
			return provider.Verification{}, &Error{Op: "check", Err: fmt.Errorf("%w: neither ID nor To given", provider.ErrInvalidRequest)}
		}
		if !r.byTo {
			return provider.Verification{}, &Error{Op: "check", Err: fmt.Errorf("%w: the router checks by ID (see WithCheckByTo)", provider.ErrUnsupported)}
		}
		e, ok, err := r.remembered(ctx, req.To)
		if err != nil {
			return provider.Verification{}, &Error{Op: "check", Err: err}
		}
		if !ok {
			return provider.Verification{}, &Error{Op: "check", Err: fmt.Errorf("%w: no pending verification known for %s", provider.ErrNotFound, mask.Target(req.To))}
		}
		id = e.id
	}
	rt, inner, err := r.lookup("check", id)
	if err != nil {
		return provider.Verification{}, err
	}
	in := req
	in.ID = inner
	if req.ID == "" && !rt.caps.CheckByTo {
		in.To = "" // the inner provider checks by ID only
	}
	call, ok := method(rt.p)
	if !ok {
		return provider.Verification{}, &Error{Op: "check", Route: rt.name, Err: fmt.Errorf("%w: route %s cannot check silent network auth", provider.ErrUnsupported, rt.name)}
	}
	t0 := r.clock()
	v, err := call(ctx, in)
	r.report(ctx, "check", rt.name, id, err, false, t0)
	if err != nil {
		return provider.Verification{}, &Error{Op: "check", Route: rt.name, Err: err}
	}
	v.ID = r.outer(rt, v.ID, inner, id)
	if v.Status == provider.StatusApproved {
		r.forget(ctx, id)
	}
	return v, nil
}

// CheckSNA checks a silent network auth verification with the route that
// started it, like Check. A route whose provider cannot check silent
// network auth gives ErrUnsupported. Its errors are the provider's: see
// WithSNAFallback for what to do after one.
func (r *Router) CheckSNA(ctx context.Context, req provider.CheckRequest) (provider.Verification, error) {
	return r.check(ctx, req, func(p provider.Provider) (func(context.Context, provider.CheckRequest) (provider.Verification, error), bool) {
		c, ok := p.(provider.SNAChecker)
		if !ok {
			return nil, false
		}
		return c.CheckSNA, true
	})
}

// Cancel cancels a verification with the route that started it. A route
// whose provider cannot cancel gives ErrUnsupported.
func (r *Router) Cancel(ctx context.Context, id string) (provider.Verification, error) {
	return r.byID(ctx, "cancel", id, func(p provider.Provider) (func(context.Context, string) (provider.Verification, error), bool) {
		c, ok := p.(provider.Canceler)
		if !ok {
			return nil, false
		}
		return c.Cancel, true
	})
}

// Approve approves a verification without a code, with the route that
// started it. A route whose provider cannot approve gives ErrUnsupported.
func (r *Router) Approve(ctx context.Context, id string) (provider.Verification, error) {
	return r.byID(ctx, "approve", id, func(p provider.Provider) (func(context.Context, string) (provider.Verification, error), bool) {
		a, ok := p.(provider.Approver)
		if !ok {
			return nil, false
		}
		return a.Approve, true
	})
}

// Fetch looks a verification up with the route that started it. A route
// whose provider cannot fetch gives ErrUnsupported.
func (r *Router) Fetch(ctx context.Context, id string) (provider.Verification, error) {
	return r.byID(ctx, "fetch", id, func(p provider.Provider) (func(context.Context, string) (provider.Verification, error), bool) {
		f, ok := p.(provider.Fetcher)
		if !ok {
			return nil, false
		}
		return f.Fetch, true
	})
}

func (r *Router) byID(ctx context.Context, op, id string, method func(provider.Provider) (func(context.Context, string) (provider.Verification, error), bool)) (provider.Verification, error) {
	if err := ctx.Err(); err != nil {
		return provider.Verification{}, err
	}
	rt, inner, err := r.lookup(op, id)
	if err != nil {
		return provider.Verification{}, err
	}
	call, ok := method(rt.p)
	if !ok {
		return provider.Verification{}, &Error{Op: op, Route: rt.name, Err: fmt.Errorf("%w: route %s cannot %s", provider.ErrUnsupported, rt.name, op)}
	}
	t0 := r.clock()
	v, err := call(ctx, inner)
	r.report(ctx, op, rt.name, id, err, false, t0)
	if err != nil {
		return provider.Verification{}, &Error{Op: op, Route: rt.name, Err: err}
	}
	v.ID = r.outer(rt, v.ID, inner, id)
	if op == "cancel" || op == "approve" {
		r.forget(ctx, id)
	}
	return v, nil
}

// clock returns the start time of a call, for the report; zero when
// nothing reports.
func (r *Router) clock() time.Time {
	if r.hook == nil && r.logger == nil {
		return time.Time{}
	}
	return time.Now()
}

// report tells the hook and the logger about a call.
func (r *Router) report(ctx context.Context, op, name, id string, err error, over bool, t0 time.Time) {
	if r.hook == nil && r.logger == nil {
		return
	}
	d := time.Since(t0)
	if r.hook != nil {
		r.hook(ctx, Event{Op: op, Route: name, ID: id, Err: err, FailedOver: over, Duration: d})
	}
	if r.logger != nil {
		level, msg := slog.LevelDebug, "route call"
		switch {
		case over:
			level, msg = slog.LevelInfo, "route failover"
		case err != nil:
			level, msg = slog.LevelWarn, "route call failed"
		}
		if !r.logger.Enabled(ctx, level) {
			return
		}
		attrs := []slog.Attr{slog.String("op", op), slog.String("route", name), slog.Duration("duration", d)}
		if id != "" {
			attrs = append(attrs, slog.String("id", id))
		}
		if err != nil {
			attrs = append(attrs, slog.String("error", err.Error()))
		}
		r.logger.LogAttrs(ctx, level, msg, attrs...)
	}
}

// String describes the router.
func (r *Router) String() string { return "route.Router{" + strings.Join(r.Routes(), ",") + "}" }

// remembered returns the verification the Router last started to to, if
// it still remembers it.
func (r *Router) remembered(ctx context.Context, to string) (entry, bool, error) {
	if r.store == nil {
		e, ok := r.index.get(to, r.now())
		return e, ok, nil
	}
	name, id, ok, err := r.store.get(ctx, to)
	if err != nil || !ok {
		return entry{}, false, err
	}
	i, known := r.byName[name]
	if !known {
		return entry{}, false, nil
	}
	return entry{route: i, id: id}, true, nil
}

// remember records the verification just started to to.
func (r *Router) remember(ctx context.Context, to string, e entry) {
	if r.store == nil {
		now := r.now()
		e.expires = now.Add(r.sticky)
		r.index.put(to, e, now)
		return
	}
	if err := r.store.put(ctx, to, r.routes[e.route].name, e.id, r.sticky); err != nil && r.logger != nil {
		r.logger.LogAttrs(ctx, slog.LevelWarn, "route memory not written", slog.String("id", e.id), slog.String("error", err.Error()))
	}
}

// forget drops the verification with the Router's ID id: it has ended.
func (r *Router) forget(ctx context.Context, id string) {
	if r.store == nil {
		r.index.drop(id)
		return
	}
	if err := r.store.drop(ctx, id); err != nil && r.logger != nil {
		r.logger.LogAttrs(ctx, slog.LevelWarn, "route memory not cleared", slog.String("id", id), slog.String("error", err.Error()))
	}
}

// storeIndex keeps the Router's memory in a store: "route:to:HASH" holds
// the route's name and the Router's ID, "route:id:ID" the target's key.
type storeIndex struct{ st store.Store }

func toKey(to string) string {
	sum := sha256.Sum256([]byte(to))
	return "route:to:" + hex.EncodeToString(sum[:16])
}

func (x *storeIndex) get(ctx context.Context, to string) (name, id string, ok bool, err error) {
	rec, err := x.st.Get(ctx, toKey(to))
	if err != nil || !rec.Found() {
		return "", "", false, err
	}
	name, id, ok = strings.Cut(string(rec.Value), "\x00")
	return name, id, ok, nil
}

// put writes to's entry, over whatever is there.
func (x *storeIndex) put(ctx context.Context, to, name, id string, ttl time.Duration) error {
	key := toKey(to)
	val := []byte(name + "\x00" + id)
	var old uint64
	for range 3 {
		rec, err := x.st.CompareAndSwap(ctx, key, old, val, ttl)
		if err == nil {
			break
		}
		if !errors.Is(err, store.ErrConflict) {
			return err
		}
		old = rec.Version
	}
	idKey := "route:id:" + id
	rec, err := x.st.CompareAndSwap(ctx, idKey, 0, []byte(key), ttl)
	if errors.Is(err, store.ErrConflict) {
		_, err = x.st.CompareAndSwap(ctx, idKey, rec.Version, []byte(key), ttl)
	}
	return err
}

// drop removes the entry of the verification id, if it is still the one
// its target's entry names.
func (x *storeIndex) drop(ctx context.Context, id string) error {
	idKey := "route:id:" + id
	ref, err := x.st.Get(ctx, idKey)
	if err != nil || !ref.Found() {
		return err
	}
	rec, err := x.st.Get(ctx, string(ref.Value))
	if err != nil {
		return err
	}
	if _, got, _ := strings.Cut(string(rec.Value), "\x00"); rec.Found() && got == id {
		if _, err := x.st.CompareAndDelete(ctx, string(ref.Value), rec.Version); err != nil && !errors.Is(err, store.ErrConflict) {
			return err
		}
	}
	if _, err := x.st.CompareAndDelete(ctx, idKey, ref.Version); err != nil && !errors.Is(err, store.ErrConflict) {
		return err
	}
	return nil
}

// Error is the error of a Router: a route's failure (Route names it, Err
// is the provider's error, reachable with errors.Is and errors.As), or a
// refusal of the Router itself (Route is empty).
type Error struct {
	// Op is the operation: "start", "check", "cancel" or "fetch".
	Op string
	// Route is the route that failed, "" for the Router's own refusals.
	Route string
	// Err is the underlying error.
	Err error
}

// Error returns "route: OP: ROUTE: ERR", without ROUTE when ERR already
// begins with it (a route named after its provider: "route: start:
// twilio: start: …", not "twilio: twilio: start: …").
func (e *Error) Error() string {
	s := "route: " + e.Op + ": "
	msg := e.Err.Error()
	if e.Route != "" && !strings.HasPrefix(msg, e.Route+": ") {
		s += e.Route + ": "
	}
	return s + msg
}

// Unwrap returns Err.
func (e *Error) Unwrap() error { return e.Err }

// PendingID returns the Router's ID of the verification already pending
// when the route refused a start with provider.ErrConflict and said which
// one, so provider.PendingID reports an ID the Router can route.
func (e *Error) PendingID() string {
	if e.Route == "" {
		return ""
	}
	if id, ok := provider.PendingID(e.Err); ok {
		return e.Route + string(sep) + id
	}
	return ""
}

// index remembers, per target, the route and ID of the verification the
// Router last started, until it expires or ends. It is bounded: when it
// is full, expired entries go first, then arbitrary ones, down to nine
// tenths of its size, so the cost of a sweep is spread over many starts.
type index struct {
	mu   sync.Mutex
	size int
	m    map[string]entry  // target → its verification
	ids  map[string]string // the Router's ID → target
}

type entry struct {
	route   int
	id      string
	expires time.Time
}

func (x *index) init(size int) {
	x.size = size
	x.m = make(map[string]entry)
	x.ids = make(map[string]string)
}

func (x *index) get(to string, now time.Time) (entry, bool) {
	x.mu.Lock()
	e, ok := x.m[to]
	x.mu.Unlock()
	if !ok || !now.Before(e.expires) {
		return entry{}, false
	}
	return e, true
}

func (x *index) put(to string, e entry, now time.Time) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if old, ok := x.m[to]; ok && old.id != e.id {
		delete(x.ids, old.id)
	}
	x.m[to] = e
	x.ids[e.id] = to
	if len(x.m) <= x.size {
		return
	}
	keep := x.size - x.size/10
	for k, v := range x.m {
		if !now.Before(v.expires) {
			x.remove(k, v)
		}
	}
	for k, v := range x.m {
		if len(x.m) <= keep {
			break
		}
		if k != to {
			x.remove(k, v)
		}
	}
}

// remove forgets to's entry e. x.mu must be held.
func (x *index) remove(to string, e entry) {
	delete(x.m, to)
	delete(x.ids, e.id)
}

// drop forgets the verification with the Router's ID id: it has ended.
func (x *index) drop(id string) {
	x.mu.Lock()
	if to, ok := x.ids[id]; ok {
		if e, ok := x.m[to]; ok && e.id == id {
			delete(x.m, to)
		}
		delete(x.ids, id)
	}
	x.mu.Unlock()
}
