package route_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/route"
	"github.com/verifykit/verifykit/twilio"
	"github.com/verifykit/verifykit/twilio/twiliotest"
	"github.com/verifykit/verifykit/vonage"
	"github.com/verifykit/verifykit/vonage/vonagetest"
)

// spy records every call that reaches a provider, and the IDs the
// provider issued, so a test can tell whether a call went to the wrong
// one.
type spy struct {
	provider.Provider
	name string

	mu     sync.Mutex
	issued map[string]bool
	calls  []string // "op id"
}

func newSpy(name string, p provider.Provider) *spy {
	return &spy{Provider: p, name: name, issued: map[string]bool{}}
}

func (s *spy) record(op, id string) {
	s.mu.Lock()
	s.calls = append(s.calls, op+" "+id)
	s.mu.Unlock()
}

func (s *spy) Name() string { return s.name }

func (s *spy) Capabilities() provider.Capabilities { return provider.CapabilitiesOf(s.Provider) }

func (s *spy) Start(ctx context.Context, req provider.StartRequest) (provider.Verification, error) {
	s.record("start", req.To)
	v, err := s.Provider.Start(ctx, req)
	if err == nil {
		s.mu.Lock()
		s.issued[v.ID] = true
		s.mu.Unlock()
	}
	return v, err
}

func (s *spy) Check(ctx context.Context, req provider.CheckRequest) (provider.Verification, error) {
	s.record("check", req.ID)
	return s.Provider.Check(ctx, req)
}

func (s *spy) Cancel(ctx context.Context, id string) (provider.Verification, error) {
	s.record("cancel", id)
	return s.Provider.(provider.Canceler).Cancel(ctx, id)
}

// foreign returns the calls keyed by an ID the spy's provider never issued.
func (s *spy) foreign() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, c := range s.calls {
		op, id, _ := strings.Cut(c, " ")
		if op != "start" && !s.issued[id] {
			out = append(out, c)
		}
	}
	return out
}

func (s *spy) count(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		if strings.HasPrefix(c, op+" ") {
			n++
		}
	}
	return n
}

// faults are the failures every inner provider is made to show.
var faults = []struct {
	name      string
	err       error
	processed bool // the call took effect before failing
	failover  bool // the Router may try the next route
}{
	{"unavailable", provider.ErrUnavailable, false, true},
	{"undeliverable", provider.ErrUndeliverable, false, true},
	{"unsupported", provider.ErrUnsupported, false, true},
	{"outcome unknown, sent", provider.ErrOutcomeUnknown, true, false},
	{"outcome unknown, not sent", provider.ErrOutcomeUnknown, false, false},
	{"rate limited", provider.ErrRateLimited, false, false},
	{"too many sends", provider.ErrTooManySends, false, false},
	{"invalid request", provider.ErrInvalidRequest, false, false},
	{"unauthorized", provider.ErrUnauthorized, false, false},
	{"conflict", provider.ErrConflict, false, false},
}

const to = "+14155552671"

// TestFaultMatrix makes each of three fakes, in turn, fail a start and a
// check with each fault, and checks that the Router never sends twice,
// fails over only when nothing was sent, and never sends a check to a
// provider other than the one that started the verification.
func TestFaultMatrix(t *testing.T) {
	t.Parallel()
	const n = 3
	for failing := range n {
		for _, f := range faults {
			t.Run(fmt.Sprintf("route%d/%s", failing, f.name), func(t *testing.T) {
				t.Parallel()
				fakes := make([]*fake.Fake, n)
				spies := make([]*spy, n)
				routes := make([]route.Route, n)
				for i := range n {
					fakes[i] = fake.MustNew()
					spies[i] = newSpy(fmt.Sprintf("p%d", i), fakes[i])
					routes[i] = route.Route{Provider: spies[i]}
				}
				var events []route.Event
				var evMu sync.Mutex
				r, err := route.New(routes, route.WithHook(func(_ context.Context, e route.Event) { evMu.Lock(); events = append(events, e); evMu.Unlock() }))
				if err != nil {
					t.Fatal(err)
				}
				for i := range failing { // the routes before fail over
					fakes[i].InjectFault(fake.Fault{Op: fake.OpStart, Err: provider.ErrUnavailable})
				}
				fakes[failing].InjectFault(fake.Fault{Op: fake.OpStart, Err: f.err, Processed: f.processed})
				ctx := context.Background()
				v, err := r.Start(ctx, provider.StartRequest{To: to, Channel: provider.ChannelSMS})

				sends := 0
				for i := range n {
					sends += len(fakes[i].Messages())
				}
				if sends > 1 {
					t.Fatalf("%d codes sent for one start", sends)
				}
				served := -1
				switch {
				case f.failover && failing+1 < n:
					if err != nil {
						t.Fatalf("Start: %v, want a failover to p%d", err, failing+1)
					}
					served = failing + 1
				case err == nil:
					t.Fatalf("Start succeeded through %s, want %v", route.ServedBy(v.ID), f.err)
				default:
					if !errors.Is(err, f.err) {
						t.Fatalf("Start: %v, want %v", err, f.err)
					}
					var re *route.Error
					if !errors.As(err, &re) || re.Route != fmt.Sprintf("p%d", failing) {
						t.Errorf("route.Error = %+v", re)
					}
				}
				wantSends := 0
				if served >= 0 || f.processed {
					wantSends = 1
				}
				if sends != wantSends {
					t.Errorf("%d codes sent, want %d", sends, wantSends)
				}
				for i := failing + 1; i < n; i++ {
					if got := spies[i].count("start"); got != 0 && i != served {
						t.Errorf("p%d was asked to start after a failure that may have sent a code", i)
					}
				}
				if served >= 0 {
					if got := route.ServedBy(v.ID); got != fmt.Sprintf("p%d", served) {
						t.Errorf("ServedBy = %q, want p%d", got, served)
					}
					code, _ := fakes[served].LastCode(to)
					// A check that fails: it is not failed over.
					fakes[served].InjectFault(fake.Fault{Op: fake.OpCheck, Err: f.err})
					if _, err := r.Check(ctx, provider.CheckRequest{ID: v.ID, Code: code}); !errors.Is(err, f.err) {
						t.Errorf("Check with a fault: %v, want %v", err, f.err)
					}
					got, err := r.Check(ctx, provider.CheckRequest{ID: v.ID, Code: code})
					if err != nil || !got.Approved() || got.ID != v.ID {
						t.Errorf("Check = %v, %v; want approved %s", got, err, v.ID)
					}
					if _, err := r.Cancel(ctx, v.ID); !errors.Is(err, provider.ErrNotFound) {
						t.Errorf("Cancel after approval: %v", err)
					}
				}
				for i := range n {
					if c := spies[i].foreign(); len(c) > 0 {
						t.Errorf("p%d got calls for verifications it never issued: %v", i, c)
					}
					if i != served && spies[i].count("check") > 0 {
						t.Errorf("p%d got a check for a verification served by p%d", i, served)
					}
				}
				evMu.Lock()
				defer evMu.Unlock()
				for i, e := range events {
					if e.Op == "start" && e.Err != nil && e.FailedOver != failsOverErr(e.Err) {
						t.Errorf("event %d: %+v", i, e)
					}
				}
			})
		}
	}
}

func failsOverErr(err error) bool {
	return !errors.Is(err, provider.ErrOutcomeUnknown) &&
		(errors.Is(err, provider.ErrUnavailable) || errors.Is(err, provider.ErrUndeliverable) || errors.Is(err, provider.ErrUnsupported))
}

// httpFault is a fault the real providers see on the wire.
type httpFault struct {
	name     string
	twilio   *twiliotest.Fault
	vonage   *vonagetest.Fault
	want     error
	sent     bool // the primary sent a code
	failover bool
}

var httpFaults = []httpFault{
	{"503 every time", &twiliotest.Fault{Op: "start", Status: 503, Code: 20503, Times: 10}, &vonagetest.Fault{Op: vonagetest.OpStart, Status: 503, Times: 10}, provider.ErrUnavailable, false, true},
	{"503 once", &twiliotest.Fault{Op: "start", Status: 503, Code: 20503}, &vonagetest.Fault{Op: vonagetest.OpStart, Status: 503}, nil, true, false},
	{"500", &twiliotest.Fault{Op: "start", Status: 500, Code: 20500}, &vonagetest.Fault{Op: vonagetest.OpStart, Status: 500}, provider.ErrOutcomeUnknown, false, false},
	{"connection dropped", &twiliotest.Fault{Op: "start", Drop: true}, &vonagetest.Fault{Op: vonagetest.OpStart}, provider.ErrOutcomeUnknown, false, false},
	{"answer lost", &twiliotest.Fault{Op: "start", Drop: true, Processed: true}, &vonagetest.Fault{Op: vonagetest.OpStart, Processed: true}, provider.ErrOutcomeUnknown, true, false},
	{"forbidden", &twiliotest.Fault{Op: "start", Status: 401, Code: 20003}, &vonagetest.Fault{Op: vonagetest.OpStart, Status: 401}, provider.ErrUnauthorized, false, false},
	{"invalid", &twiliotest.Fault{Op: "start", Status: 400, Code: 60200}, &vonagetest.Fault{Op: vonagetest.OpStart, Status: 422}, provider.ErrInvalidRequest, false, false},
	{"rate limited", &twiliotest.Fault{Op: "start", Status: 429, Code: 60203}, &vonagetest.Fault{Op: vonagetest.OpStart, Status: 429, RetryAfter: 3600}, nil, false, false},
}

// endpoint is one real provider on its emulator.
type endpoint struct {
	name     string
	p        provider.Provider
	inject   func(httpFault)
	sent     func() int
	messages func() []string // the targets of the messages sent, oldest first
	code     func(string) (string, bool)
	approv   func() []string
}

func twilioEndpoint(t *testing.T) *endpoint {
	srv := twiliotest.NewServer()
	t.Cleanup(srv.Close)
	c, err := twilio.New(twiliotest.DefaultServiceSID, twilio.AuthToken(twiliotest.DefaultAccountSID, twiliotest.DefaultAuthToken),
		twilio.WithBaseURL(srv.URL), twilio.WithRetryWait(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	return &endpoint{name: "twilio", p: c, inject: func(f httpFault) { srv.InjectFault(*f.twilio) },
		sent: func() int { return len(srv.Messages()) }, code: srv.LastCode, approv: srv.Approvals,
		messages: func() []string {
			var out []string
			for _, m := range srv.Messages() {
				out = append(out, m.To)
			}
			return out
		}}
}

func vonageEndpoint(t *testing.T) *endpoint {
	srv := vonagetest.NewServer()
	t.Cleanup(srv.Close)
	c, err := vonage.New("Acme", vonage.Application(vonagetest.DefaultApplicationID, vonagetest.DefaultPrivateKeyPEM()),
		vonage.WithBaseURL(srv.URL), vonage.WithRetryWait(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	return &endpoint{name: "vonage", p: c, inject: func(f httpFault) { srv.InjectFault(*f.vonage) },
		sent: func() int { return len(srv.Messages()) }, code: srv.LastCode, approv: srv.Approvals,
		messages: func() []string {
			var out []string
			for _, m := range srv.Messages() {
				out = append(out, m.To)
			}
			return out
		}}
}

// TestHTTPFaultMatrix puts twilio and vonage, each on its emulator, in
// both orders, and makes the primary fail on the wire in each way.
func TestHTTPFaultMatrix(t *testing.T) {
	t.Parallel()
	for _, order := range [][2]string{{"twilio", "vonage"}, {"vonage", "twilio"}} {
		for _, f := range httpFaults {
			t.Run(order[0]+"/"+f.name, func(t *testing.T) {
				t.Parallel()
				mk := map[string]func(*testing.T) *endpoint{"twilio": twilioEndpoint, "vonage": vonageEndpoint}
				primary, fallback := mk[order[0]](t), mk[order[1]](t)
				r, err := route.New([]route.Route{{Provider: primary.p}, {Provider: fallback.p}})
				if err != nil {
					t.Fatal(err)
				}
				// The rate limit differs: Twilio's 60203 is too many sends,
				// Vonage's 429 asks a longer wait than the client takes.
				want := f.want
				if f.name == "rate limited" {
					want = map[string]error{"twilio": provider.ErrTooManySends, "vonage": provider.ErrRateLimited}[primary.name]
				}
				primary.inject(f)
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				v, err := r.Start(ctx, provider.StartRequest{To: to, Channel: provider.ChannelSMS})
				sends := primary.sent() + fallback.sent()
				switch {
				case want == nil && !f.failover:
					if err != nil || route.ServedBy(v.ID) != primary.name {
						t.Fatalf("Start = %v, %v; want success through %s", v, err, primary.name)
					}
				case f.failover:
					if err != nil || route.ServedBy(v.ID) != fallback.name {
						t.Fatalf("Start = %v, %v; want a failover to %s", v, err, fallback.name)
					}
				default:
					if !errors.Is(err, want) {
						t.Fatalf("Start: %v, want %v", err, want)
					}
				}
				wantSends := 0
				if err == nil || f.sent {
					wantSends = 1
				}
				if sends != wantSends {
					t.Fatalf("%d codes sent, want %d", sends, wantSends)
				}
				if fallback.sent() > 0 && !f.failover {
					t.Fatal("the fallback sent a code after a failure that does not prove nothing was sent")
				}
				if err != nil {
					return
				}
				served := primary
				if f.failover {
					served = fallback
				}
				code, _ := served.code(to)
				got, err := r.Check(ctx, provider.CheckRequest{ID: v.ID, Code: code})
				if err != nil || !got.Approved() {
					t.Fatalf("Check = %v, %v", got, err)
				}
				_, inner, _ := strings.Cut(v.ID, ":")
				if a := served.approv(); len(a) != 1 || a[0] != inner {
					t.Errorf("%s approved %v, want [%s]", served.name, a, inner)
				}
				other := fallback
				if served == fallback {
					other = primary
				}
				if a := other.approv(); len(a) != 0 {
					t.Errorf("%s approved %v", other.name, a)
				}
			})
		}
	}
}
