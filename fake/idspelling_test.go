package fake_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/provider"
)

// TestOneSpellingPerID: the fake finds a verification by the ID it issued
// only; the same hex digits in upper case are another, unknown ID.
func TestOneSpellingPerID(t *testing.T) {
	t.Parallel()
	f := fake.MustNew(fake.WithFixedCode("123456"))
	ctx := context.Background()
	v, err := f.Start(ctx, provider.StartRequest{To: "+14155552671", Channel: provider.ChannelSMS})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{strings.ToUpper(v.ID), strings.ToLower(v.ID), v.ID[:2] + strings.ToUpper(v.ID[2:])} {
		if id == v.ID {
			continue // no letter to re-spell there
		}
		if got, err := f.Check(ctx, provider.CheckRequest{ID: id, Code: "123456"}); !errors.Is(err, provider.ErrNotFound) {
			t.Errorf("Check(%s) = %v, %v; want ErrNotFound", id, got, err)
		}
		if got, err := f.Fetch(ctx, id); !errors.Is(err, provider.ErrNotFound) {
			t.Errorf("Fetch(%s) = %v, %v; want ErrNotFound", id, got, err)
		}
	}
	if got, err := f.Check(ctx, provider.CheckRequest{ID: v.ID, Code: "123456"}); err != nil || !got.Approved() {
		t.Errorf("Check with the ID as issued = %v, %v", got, err)
	}
}
