package route_test

import (
	"context"
	"testing"

	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/route"
)

// benchStartCheck runs one Start and one right-code Check through p.
func benchStartCheck(b *testing.B, p provider.Provider) { benchStartCheckTo(b, p, "+14155552671") }

func benchStartCheckTo(b *testing.B, p provider.Provider, to string) {
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		v, err := p.Start(ctx, provider.StartRequest{To: to, Channel: provider.ChannelSMS})
		if err != nil {
			b.Fatal(err)
		}
		got, err := p.Check(ctx, provider.CheckRequest{ID: v.ID, Code: "123456"})
		if err != nil || !got.Approved() {
			b.Fatal(got, err)
		}
	}
}

// BenchmarkInner is the fake alone: the baseline of BenchmarkRouter.
func BenchmarkInner(b *testing.B) {
	benchStartCheck(b, fake.MustNew(fake.WithFixedCode("123456"), fake.WithOutboxLimit(64)))
}

// BenchmarkRouter is the same flow through a Router whose first route
// serves it; the difference with BenchmarkInner is the Router's overhead
// on a Start and a Check.
func BenchmarkRouter(b *testing.B) {
	f := fake.MustNew(fake.WithFixedCode("123456"), fake.WithOutboxLimit(64))
	r, err := route.New([]route.Route{{Name: "a", Provider: f}, {Name: "b", Provider: fake.MustNew()}})
	if err != nil {
		b.Fatal(err)
	}
	benchStartCheck(b, r)
}

// BenchmarkRouterByCountry routes a +1 number by country, which parses
// it: +1 is shared by the US, Canada and the Caribbean.
func BenchmarkRouterByCountry(b *testing.B) {
	f := fake.MustNew(fake.WithFixedCode("123456"), fake.WithOutboxLimit(64))
	r, err := route.New([]route.Route{{Name: "ca", Provider: fake.MustNew(), Countries: []string{"CA"}}, {Name: "us", Provider: f, Countries: []string{"US"}}})
	if err != nil {
		b.Fatal(err)
	}
	benchStartCheck(b, r)
}

// BenchmarkRouterByCountryCode routes a French number by country: +33 is
// France's alone, so the number is not parsed.
func BenchmarkRouterByCountryCode(b *testing.B) {
	f := fake.MustNew(fake.WithFixedCode("123456"), fake.WithOutboxLimit(64))
	r, err := route.New([]route.Route{{Name: "gb", Provider: fake.MustNew(), Countries: []string{"GB"}}, {Name: "fr", Provider: f, Countries: []string{"FR"}}})
	if err != nil {
		b.Fatal(err)
	}
	benchStartCheckTo(b, r, "+33612345678")
}

// stub answers every call at once, so that a benchmark over it measures
// the Router's own work.
type stub struct{}

func (stub) Start(_ context.Context, req provider.StartRequest) (provider.Verification, error) {
	return provider.Verification{ID: "VE0123456789abcdef0123456789abcdef", To: req.To, Status: provider.StatusPending}, nil
}

func (stub) Check(_ context.Context, req provider.CheckRequest) (provider.Verification, error) {
	return provider.Verification{ID: req.ID, Status: provider.StatusApproved}, nil
}

// BenchmarkStub is a provider that does nothing: the baseline of
// BenchmarkRouterOverStub.
func BenchmarkStub(b *testing.B) { benchStartCheck(b, stub{}) }

// BenchmarkRouterOverStub is the Router's own cost of one Start and one
// Check.
func BenchmarkRouterOverStub(b *testing.B) {
	r, err := route.New([]route.Route{{Name: "a", Provider: stub{}}, {Name: "b", Provider: stub{}}})
	if err != nil {
		b.Fatal(err)
	}
	benchStartCheck(b, r)
}
