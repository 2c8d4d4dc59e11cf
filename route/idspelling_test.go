package route_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/route"
	"github.com/verifykit/verifykit/selfhosted"
)

// TestOneSpellingPerID: a Router ID has one spelling, the one Start
// returned. The route name in another case is not a route, and the inner
// ID is passed as it is, for the inner provider to refuse other spellings.
func TestOneSpellingPerID(t *testing.T) {
	t.Parallel()
	r, err := route.New([]route.Route{{Name: "sh", Provider: fake.MustNew(fake.WithFixedCode("123456"))}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	v, err := r.Start(ctx, provider.StartRequest{To: "+14155552671", Channel: provider.ChannelSMS})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"SH" + v.ID[2:], "sh:" + strings.ToUpper(v.ID[3:]), strings.ToUpper(v.ID), " " + v.ID, v.ID + " "} {
		if got, err := r.Check(ctx, provider.CheckRequest{ID: id, Code: "123456"}); !errors.Is(err, provider.ErrNotFound) {
			t.Errorf("Check(%q) = %v, %v; want ErrNotFound", id, got, err)
		}
		if got, err := r.Fetch(ctx, id); !errors.Is(err, provider.ErrNotFound) {
			t.Errorf("Fetch(%q) = %v, %v; want ErrNotFound", id, got, err)
		}
	}
	if got, err := r.Check(ctx, provider.CheckRequest{ID: v.ID, Code: "123456"}); err != nil || !got.Approved() {
		t.Errorf("Check with the ID as issued = %v, %v", got, err)
	}
}

// TestNewRefusesTypedNil: a route whose provider is a nil pointer in an
// interface is refused by New, not left to panic later.
func TestNewRefusesTypedNil(t *testing.T) {
	t.Parallel()
	sh, err := selfhosted.New(nil, selfhosted.GenerateKey("k1"))
	if err == nil {
		t.Fatal("selfhosted.New(nil store): no error")
	}
	var nilFake *fake.Fake
	for name, p := range map[string]provider.Provider{"selfhosted": sh, "fake": nilFake} {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("New with a typed nil %s panicked: %v", name, r)
				}
			}()
			if _, err := route.New([]route.Route{{Name: "a", Provider: p}}); err == nil {
				t.Errorf("New with a typed nil %s: no error", name)
			}
		}()
	}
}
