package route_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/route"
)

// TestChaos runs many flows at once through twilio and vonage, each on its
// emulator, while faults of every kind land on random requests. Whatever
// happens, no target is sent two codes by one start, an approval the
// Router reports happened at the provider that started the verification,
// and the other provider never approved it.
func TestChaos(t *testing.T) {
	t.Parallel()
	tw, vg := twilioEndpoint(t), vonageEndpoint(t)
	r, err := route.New([]route.Route{{Provider: tw.p}, {Provider: vg.p}})
	if err != nil {
		t.Fatal(err)
	}
	messagesTo := func(e *endpoint, to string) int {
		n := 0
		for _, m := range e.messages() {
			if m == to {
				n++
			}
		}
		return n
	}
	const workers, flows = 8, 12
	var wg sync.WaitGroup
	errs := make(chan error, workers*flows)
	for w := range workers {
		wg.Go(func() {
			rnd := rand.New(rand.NewPCG(uint64(w), 42))
			for i := range flows {
				to := fmt.Sprintf("+1415555%02d%02d", w, i)
				if rnd.IntN(2) == 0 {
					f := httpFaults[rnd.IntN(len(httpFaults))]
					[]*endpoint{tw, vg}[rnd.IntN(2)].inject(f)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				v, err := r.Start(ctx, provider.StartRequest{To: to, Channel: provider.ChannelSMS})
				sent := messagesTo(tw, to) + messagesTo(vg, to)
				if sent > 1 {
					errs <- fmt.Errorf("%s: %d codes for one start", to, sent)
				}
				if err != nil {
					cancel()
					continue
				}
				served, other := tw, vg
				if route.ServedBy(v.ID) == "vonage" {
					served, other = vg, tw
				}
				if messagesTo(served, to) != 1 {
					errs <- fmt.Errorf("%s: started at %s, which sent %d codes", to, served.name, messagesTo(served, to))
				}
				code, _ := served.code(to)
				got, err := r.Check(ctx, provider.CheckRequest{ID: v.ID, Code: code})
				cancel()
				_, inner, _ := strings.Cut(v.ID, ":")
				if err == nil && got.Approved() && !contains(served.approv(), inner) {
					errs <- fmt.Errorf("%s: approval reported but %s did not approve %s", to, served.name, inner)
				}
				if contains(other.approv(), inner) {
					errs <- fmt.Errorf("%s: %s approved a verification %s started", to, other.name, served.name)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
