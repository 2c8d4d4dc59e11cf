package twilio_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	fm "github.com/verifykit/verifykit/internal/faultmatrix"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/twilio"
)

// op is one client operation, with the class of request it makes.
type op struct {
	name  string
	class fm.Class
	call  func(context.Context, *twilio.Client) error
}

var ops = []op{
	{"Start", fm.Change, func(ctx context.Context, c *twilio.Client) error {
		_, err := c.Start(ctx, provider.StartRequest{To: "+14155552671", Channel: provider.ChannelSMS})
		return err
	}},
	{"Check", fm.Change, func(ctx context.Context, c *twilio.Client) error {
		_, err := c.Check(ctx, provider.CheckRequest{To: "+14155552671", Code: "123456"})
		return err
	}},
	{"CheckID", fm.Change, func(ctx context.Context, c *twilio.Client) error {
		_, err := c.Check(ctx, provider.CheckRequest{ID: veSID, Code: "123456"})
		return err
	}},
	{"CheckSNA", fm.Change, func(ctx context.Context, c *twilio.Client) error {
		_, err := c.CheckSNA(ctx, provider.CheckRequest{ID: veSID})
		return err
	}},
	{"Cancel", fm.Change, func(ctx context.Context, c *twilio.Client) error { _, err := c.Cancel(ctx, veSID); return err }},
	{"Approve", fm.Change, func(ctx context.Context, c *twilio.Client) error { _, err := c.Approve(ctx, veSID); return err }},
	{"CreateService", fm.Change, func(ctx context.Context, c *twilio.Client) error {
		_, err := c.CreateService(ctx, twilio.ServiceParams{FriendlyName: "x"})
		return err
	}},
	{"UpdateService", fm.Change, func(ctx context.Context, c *twilio.Client) error {
		_, err := c.UpdateService(ctx, serviceSID, twilio.ServiceParams{CodeLength: 6})
		return err
	}},
	{"Fetch", fm.Read, func(ctx context.Context, c *twilio.Client) error { _, err := c.Fetch(ctx, veSID); return err }},
	{"FetchService", fm.Read, func(ctx context.Context, c *twilio.Client) error {
		_, err := c.FetchService(ctx, serviceSID)
		return err
	}},
	{"ListServices", fm.Read, func(ctx context.Context, c *twilio.Client) error {
		_, err := c.ListServices(ctx, twilio.ListOptions{})
		return err
	}},
	{"DeleteService", fm.Delete, func(ctx context.Context, c *twilio.Client) error { return c.DeleteService(ctx, serviceSID) }},
}

func (o op) op() fm.Op { return fm.Op{Name: o.name, Class: o.class} }

func twilioError(status, code int, header ...string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		reply(w, status, []byte(fmt.Sprintf(`{"code":%d,"message":"m","more_info":"https://www.twilio.com/docs/errors/%d","status":%d}`, code, code, status)))
	}
}

// twilioVendor is how Twilio answers, for the shared fault matrix.
var twilioVendor = fm.Vendor{
	Own: func(status int, header ...string) http.HandlerFunc {
		return twilioError(status, map[int]int{429: 20429, 500: 20500, 503: 20503}[status], header...)
	},
	Own429:   "429, code 20429 (account concurrency)",
	Own503:   "503, code 20503 (Twilio's answer)",
	Approved: []byte(`{"sid":"` + veSID + `","service_sid":"` + serviceSID + `","to":"+14155552671","status":"approved","valid":true}`),
}

// faults is the shared fault matrix with the rows only Twilio has.
var faults = append(fm.Common(twilioVendor),
	fm.Fault{Name: "429, code 60202 (max check attempts)", Handler: twilioError(429, 60202), Want: fm.Same(fm.Outcome{Err: provider.ErrTooManyChecks, Attempts: 1, Acted: fm.ActedNo}),
		WantOp: map[string]fm.Outcome{"Start": {Err: provider.ErrTooManySends, Attempts: 1, Acted: fm.ActedNo}}},
	fm.Fault{Name: "429, code 60203 (max send attempts)", Handler: twilioError(429, 60203), Want: fm.Same(fm.Outcome{Err: provider.ErrTooManySends, Attempts: 1, Acted: fm.ActedNo})},
	fm.Fault{Name: "429, code 60212 (concurrent starts)", Handler: twilioError(429, 60212), Want: fm.Same(fm.RateLim1)},
	fm.Fault{Name: "200 with no status", Handler: fm.Body(200, []byte(`{"sid":"`+veSID+`","to":"+14155552671"}`)), Want: fm.ByClass(fm.Unknown1, fm.Unavail1, fm.SuccessDel)},
	fm.Fault{Name: "200 approving another verification", Want: fm.ByClass(fm.Unknown1, fm.Unavail1, fm.SuccessDel),
		Handler: fm.Body(200, []byte(`{"sid":"VEbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","service_sid":"`+serviceSID+`","to":"+14155550000","status":"approved","valid":true}`))},
	fm.Fault{Name: "200 approving in another service", Want: fm.ByClass(fm.Unknown1, fm.Unavail1, fm.SuccessDel),
		Handler: fm.Body(200, []byte(`{"sid":"`+veSID+`","service_sid":"VAbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","to":"+14155552671","status":"approved","valid":true}`))},
	fm.Fault{Name: "200 with another kind of object (a Service)", Handler: fm.Body(200, []byte(`{"sid":"`+serviceSID+`","friendly_name":"x","code_length":6}`)),
		Want:   fm.ByClass(fm.Unknown1, fm.Unavail1, fm.SuccessDel),
		WantOp: map[string]fm.Outcome{"CreateService": fm.SuccessDel, "UpdateService": fm.SuccessDel, "FetchService": fm.SuccessDel}},
)

// TestFaultMatrix runs every operation against every fault and checks the
// sentinel, the number of attempts the server saw and whether Twilio may
// have acted. docs/providers.md's "Failure modes and guarantees" table is rendered
// from the same table (see TestREADMEFailureTable).
func TestFaultMatrix(t *testing.T) {
	for _, f := range faults {
		t.Run(f.Name, func(t *testing.T) {
			for _, o := range ops {
				t.Run(o.name, func(t *testing.T) {
					if f.InMemory {
						synctest.Test(t, func(t *testing.T) { runCell(t, f, o) })
						return
					}
					runCell(t, f, o)
				})
			}
		})
	}
}

func runCell(t *testing.T, f fm.Fault, o op) {
	target, attempts, stop := fm.Setup(t, f)
	defer stop()
	opts := []twilio.Option{twilio.WithBaseURL(target.BaseURL), twilio.WithRetryWait(0, 5*time.Second)} // the default retries (fm.Retries)
	if target.HTTP != nil {
		opts = append(opts, twilio.WithHTTPClient(target.HTTP))
	}
	if f.Name == fm.RowFollowingClient {
		opts = append(opts, twilio.WithHTTPClient(fm.FollowingClient()))
	}
	if f.SetPolicy {
		opts = append(opts, twilio.WithPOSTRetry(f.Policy))
	}
	c, err := twilio.New(serviceSID, twilio.AuthToken(accountSID, authToken), opts...)
	if err != nil {
		t.Fatal(err)
	}
	fm.Check(t, f, o.op(), attempts, func(ctx context.Context) error { return o.call(ctx, c) }, func(err error) (bool, bool) {
		var re *twilio.RequestError
		if errors.As(err, &re) {
			return re.Sent, true
		}
		return false, false
	})
}

var updateREADME = flag.Bool("update-readme", false, "rewrite docs/providers.md's failure table from the fault matrix")

// failureTable renders the fault matrix as the table in docs/providers.md.
func failureTable() string {
	var b strings.Builder
	b.WriteString("| fault | POST: Start, Check, CheckID, CheckSNA, Cancel, Approve, CreateService, UpdateService | GET: Fetch, FetchService, ListServices | DELETE: DeleteService |\n")
	b.WriteString("|---|---|---|---|\n")
	for _, f := range faults {
		cells := map[string]string{}
		for _, class := range []string{"POST", "GET", "DELETE"} {
			// The most common outcome of the class, then the exceptions
			// with the operations they apply to.
			byOutcome := map[string][]string{}
			var order []string
			for _, o := range ops {
				if string(o.class) != class {
					continue
				}
				s := f.OutcomeFor(o.op()).String()
				if byOutcome[s] == nil {
					order = append(order, s)
				}
				byOutcome[s] = append(byOutcome[s], o.name)
			}
			sort.SliceStable(order, func(i, j int) bool { return len(byOutcome[order[i]]) > len(byOutcome[order[j]]) })
			cell := order[0]
			for _, s := range order[1:] {
				cell += "; " + strings.Join(byOutcome[s], ", ") + ": " + s
			}
			cells[class] = cell
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", f.Name, cells["POST"], cells["GET"], cells["DELETE"])
	}
	return b.String()
}

// failureTableDoc is the page that holds the failure table.
const failureTableDoc = "../docs/providers.md"

const (
	tableStart = "<!-- failure-table:start (generated from twilio/faultmatrix_test.go: go test ./twilio -run TestREADMEFailureTable -update-readme) -->\n"
	tableEnd   = "<!-- failure-table:end -->"
)

// TestREADMEFailureTable checks that the failure table in docs/providers.md
// (moved there from README.md; the name stays for scripts that run it) is
// the fault matrix, row for row.
func TestREADMEFailureTable(t *testing.T) {
	readme, err := os.ReadFile(failureTableDoc)
	if err != nil {
		t.Fatal(err)
	}
	s := string(readme)
	i, j := strings.Index(s, tableStart), strings.Index(s, tableEnd)
	if i < 0 || j < i {
		t.Fatalf("%s has no failure table between %q and %q", failureTableDoc, tableStart, tableEnd)
	}
	want := failureTable()
	if got := s[i+len(tableStart) : j]; got != want {
		if *updateREADME {
			s = s[:i+len(tableStart)] + want + s[j:]
			if err := os.WriteFile(failureTableDoc, []byte(s), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Errorf("the failure table in docs/providers.md differs from the fault matrix; run go test ./twilio -run TestREADMEFailureTable -update-readme.\nwant:\n%s\ngot:\n%s", want, got)
	}
}
