package selfhosted_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/selfhosted"
	"github.com/verifykit/verifykit/store"
)

// badKey is a sender's error that matches provider.ErrUnauthorized
// without saying so in its text.
type badKey struct{}

func (badKey) Error() string        { return "acme: key refused" }
func (badKey) Is(target error) bool { return target == provider.ErrUnauthorized }

// TestErrorSaysTheKindOnce checks that a sender's failure that names its
// kind is not prefixed with the kind again ("unauthorized: gatewayapi:
// …: unauthorized"), and that one that does not name it still gets it.
func TestErrorSaysTheKindOnce(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"names its kind", &selfhosted.SendError{Sender: "gatewayapi", To: "+14*******71", Kind: provider.ErrUnauthorized, Status: 401},
			"selfhosted: start: gatewayapi: send to +14*******71: unauthorized (status 401)"},
		{"does not", badKey{}, "selfhosted: start: unauthorized: acme: key refused"},
	} {
		m, err := store.NewMemory()
		if err != nil {
			t.Fatal(err)
		}
		send := selfhosted.SenderFunc(func(context.Context, selfhosted.Message) error { return tc.err })
		p, err := selfhosted.New(m, selfhosted.GenerateKey("k1"), selfhosted.WithSender(send, provider.ChannelSMS))
		if err != nil {
			t.Fatal(err)
		}
		_, err = p.Start(context.Background(), provider.StartRequest{To: "+14155552671", Channel: provider.ChannelSMS})
		if !errors.Is(err, provider.ErrUnauthorized) || err.Error() != tc.want {
			t.Errorf("%s: Start = %v, want %q matching ErrUnauthorized", tc.name, err, tc.want)
		} else if strings.Count(err.Error(), provider.ErrUnauthorized.Error()) != 1 {
			t.Errorf("%s: %q says the kind more than once", tc.name, err)
		}
	}
}
