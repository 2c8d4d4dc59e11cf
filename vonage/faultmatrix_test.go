package vonage_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	fm "github.com/verifykit/verifykit/internal/faultmatrix"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/vonage"
	"github.com/verifykit/verifykit/vonage/vonagetest"
)

// matrixOp is one client operation. Every Vonage call changes state, the
// DELETE of a cancel included (a second one answers 404), so all are of
// class Change.
type matrixOp struct {
	name string
	call func(context.Context, *vonage.Client) error
}

var matrixOps = []matrixOp{
	{"Start", func(ctx context.Context, c *vonage.Client) error {
		_, err := c.Start(ctx, provider.StartRequest{To: phone, Channel: provider.ChannelSMS})
		return err
	}},
	{"Check", func(ctx context.Context, c *vonage.Client) error {
		_, err := c.Check(ctx, provider.CheckRequest{ID: reqID, Code: "1234"})
		return err
	}},
	{"Cancel", func(ctx context.Context, c *vonage.Client) error { _, err := c.Cancel(ctx, reqID); return err }},
	{"NextWorkflow", func(ctx context.Context, c *vonage.Client) error { return c.NextWorkflow(ctx, reqID) }},
}

// vonageProblem answers as Vonage does: an RFC 7807 problem document.
func vonageProblem(status int, header ...string) http.HandlerFunc {
	kind := map[int]string{429: "rate-limit", 500: "internal-error", 503: "service-unavailable"}[status]
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(status)
		w.Write([]byte(`{"type":"https://developer.vonage.com/api-errors#` + kind + `","title":"` + http.StatusText(status) +
			`","detail":"Please wait, then retry your request","instance":"bf0ca0bf927b3b52e3cb03217e1a1ddf"}`))
	}
}

var vonageVendor = fm.Vendor{
	Own:      vonageProblem,
	Own429:   "429, Vonage's problem+json",
	Own503:   "503, Vonage's problem+json",
	Approved: []byte(`{"request_id":"` + reqID + `","status":"completed"}`),
}

// vonageFaults is the shared fault matrix, with what Vonage's calls answer
// otherwise: a cancel and a next workflow take any 2xx as done (they
// expect no body), and a redirect never cancels anything.
func vonageFaults() []fm.Fault {
	faults := fm.Common(vonageVendor)
	done := map[string]fm.Outcome{"Cancel": fm.SuccessDel, "NextWorkflow": fm.SuccessDel}
	for i, f := range faults {
		switch f.Name {
		case "200 with an empty body", "200 with truncated JSON", "200 with {}", "200 with null":
			faults[i].WantOp = done
		case fm.RowRedirect302, fm.RowRedirect307, fm.RowFollowingClient:
			faults[i].WantOp = map[string]fm.Outcome{"Cancel": fm.Unavail1}
		}
	}
	return append(faults,
		fm.Fault{Name: "200 approving another request", Handler: fm.Body(200, []byte(`{"request_id":"00000000-0000-4000-8000-000000000000","status":"completed"}`)),
			Want: fm.Same(fm.SuccessDel), WantOp: map[string]fm.Outcome{"Check": fm.Unknown1}},
		fm.Fault{Name: "200 with another status", Handler: fm.Body(200, []byte(`{"request_id":"`+reqID+`","status":"failed"}`)),
			Want: fm.Same(fm.SuccessDel), WantOp: map[string]fm.Outcome{"Check": fm.Unknown1}},
	)
}

// TestFaultMatrix runs every operation against every fault of the matrix
// the twilio package runs too, and checks the sentinel, the number of
// attempts the server saw and whether Vonage may have acted.
func TestFaultMatrix(t *testing.T) {
	for _, f := range vonageFaults() {
		t.Run(f.Name, func(t *testing.T) {
			for _, o := range matrixOps {
				t.Run(o.name, func(t *testing.T) {
					if f.InMemory {
						synctest.Test(t, func(t *testing.T) { runMatrixCell(t, f, o) })
						return
					}
					runMatrixCell(t, f, o)
				})
			}
		})
	}
}

func runMatrixCell(t *testing.T, f fm.Fault, o matrixOp) {
	target, attempts, stop := fm.Setup(t, f)
	defer stop()
	opts := []vonage.Option{vonage.WithBaseURL(target.BaseURL), vonage.WithRetries(fm.Retries), vonage.WithRetryWait(0, 5*time.Second)}
	if target.HTTP != nil {
		opts = append(opts, vonage.WithHTTPClient(target.HTTP))
	}
	if f.Name == fm.RowFollowingClient {
		opts = append(opts, vonage.WithHTTPClient(fm.FollowingClient()))
	}
	if f.SetPolicy {
		opts = append(opts, vonage.WithPOSTRetry(f.Policy))
	}
	c, err := vonage.New("Acme", vonage.Application(appID, vonagetest.DefaultPrivateKeyPEM()), opts...)
	if err != nil {
		t.Fatal(err)
	}
	fm.Check(t, f, fm.Op{Name: o.name, Class: fm.Change}, attempts, func(ctx context.Context) error { return o.call(ctx, c) }, func(err error) (bool, bool) {
		var re *vonage.RequestError
		if errors.As(err, &re) {
			return re.Sent, true
		}
		return false, false
	})
}
