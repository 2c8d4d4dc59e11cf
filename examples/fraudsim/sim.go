package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/store"
	"github.com/verifykit/verifykit/verify"
)

// header is the trace's CSV header.
const header = "t_ms,ip,to,channel,enters_code"

// epoch is when a trace starts on the simulated clock.
var epoch = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

// codeDelay is how long after a send a person types the code.
const codeDelay = 20 * time.Second

// row is one send of a trace.
type row struct {
	t     time.Duration
	ip    string
	to    string
	ch    verify.Channel
	enter bool
}

// outcome is what the replay decided for a row.
type outcome struct {
	sent   bool
	reason string
}

// summary counts a replay's outcomes.
type summary struct {
	rows, sent, refused, approved int
	reasons                       map[string]int
	elapsed                       time.Duration
}

func (s summary) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "rows %d, sent %d, refused %d, approved %d, in %v\n", s.rows, s.sent, s.refused, s.approved, s.elapsed.Round(time.Millisecond))
	for _, k := range sortedKeys(s.reasons) {
		fmt.Fprintf(&b, "  refused by %s: %d\n", k, s.reasons[k])
	}
	return b.String()
}

// guardOptions returns the protection the replay runs with: the
// recommended fraud guard on a memory store, on the simulated clock.
func guardOptions(now func() time.Time, s store.Limiter, recordOnly bool) []verify.Option {
	g := verify.RecommendedFraudGuard()
	g.Now = now
	g.RecordOnly = recordOnly
	return []verify.Option{verify.WithPolicyStore(s), verify.WithFraudGuard(g)}
}

// replayer replays rows through a verify.Client on a simulated clock.
type replayer struct {
	ctx    context.Context
	clock  *fake.Clock
	c      *verify.Client
	checks []pendingCheck // due in order: every check is codeDelay after its send
	sum    summary
}

type pendingCheck struct {
	at time.Duration
	to string
}

func newReplayer(recordOnly bool) (*replayer, error) {
	clock := fake.NewClock(epoch)
	s, err := store.NewMemory(store.WithClock(clock.Now), store.WithMaxEntries(8<<20))
	if err != nil {
		return nil, err
	}
	f, err := fake.New(fake.WithClock(clock.Now), fake.WithFixedCode("123456"),
		fake.WithOutboxLimit(1), fake.WithMaxSends(1000))
	if err != nil {
		return nil, err
	}
	c, err := verify.New(f, guardOptions(clock.Now, s, recordOnly)...)
	if err != nil {
		return nil, err
	}
	return &replayer{ctx: context.Background(), clock: clock, c: c, sum: summary{reasons: map[string]int{}}}, nil
}

// runChecks types the codes due by t.
func (r *replayer) runChecks(t time.Duration) {
	n := 0
	for _, pc := range r.checks {
		if pc.at > t {
			break
		}
		n++
		r.clock.Set(epoch.Add(pc.at))
		if v, err := r.c.Check(r.ctx, pc.to, "123456", nil); err == nil && v.Approved() {
			r.sum.approved++
		}
	}
	r.checks = r.checks[n:]
}

// send replays one row.
func (r *replayer) send(rw row) outcome {
	r.runChecks(rw.t)
	r.clock.Set(epoch.Add(rw.t))
	r.sum.rows++
	_, err := r.c.Start(r.ctx, rw.to, rw.ch, &verify.StartOptions{CallerKeys: map[string]string{"ip": rw.ip}})
	if err != nil {
		reason := reasonOf(err)
		r.sum.refused++
		r.sum.reasons[reason]++
		return outcome{reason: reason}
	}
	r.sum.sent++
	if rw.enter {
		r.checks = append(r.checks, pendingCheck{at: rw.t + codeDelay, to: rw.to})
	}
	return outcome{sent: true}
}

// reasonOf names what refused a send: the policy or signal, or the
// error's code when the provider refused it.
func reasonOf(err error) string {
	var pe *verify.PolicyError
	if errors.As(err, &pe) {
		return string(pe.Policy)
	}
	return "provider_" + string(verify.CodeOf(err))
}

// replay reads a trace from in, writes "row,decision,reason" lines to
// out, and returns the summary.
func replay(in io.Reader, out io.Writer, recordOnly bool) (summary, error) {
	begin := time.Now()
	r, err := newReplayer(recordOnly)
	if err != nil {
		return summary{}, err
	}
	bw := bufio.NewWriterSize(out, 1<<16)
	if _, err := bw.WriteString("row,decision,reason\n"); err != nil {
		return summary{}, err
	}
	err = readTrace(in, func(n int, rw row) error {
		o := r.send(rw)
		line := strconv.AppendInt(make([]byte, 0, 48), int64(n), 10)
		if o.sent {
			line = append(line, ",sent,\n"...)
		} else {
			line = append(append(append(line, ",refused,"...), o.reason...), '\n')
		}
		_, err := bw.Write(line)
		return err
	})
	if err != nil {
		return r.sum, err
	}
	r.runChecks(1<<62 - 1)
	r.sum.elapsed = time.Since(begin)
	return r.sum, bw.Flush()
}

// readTrace parses a trace, calling fn with each data row and its 1-based
// number.
func readTrace(in io.Reader, fn func(n int, rw row) error) error {
	cr := csv.NewReader(bufio.NewReaderSize(in, 1<<16))
	cr.ReuseRecord = true
	cr.FieldsPerRecord = 5
	h, err := cr.Read()
	if err != nil {
		return fmt.Errorf("trace header: %w", err)
	}
	if strings.Join(h, ",") != header {
		return fmt.Errorf("trace header is %q, want %q", strings.Join(h, ","), header)
	}
	var last int64
	for n := 1; ; n++ {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("trace row %d: %w", n, err)
		}
		ms, err := strconv.ParseInt(rec[0], 10, 64)
		if err != nil || ms < last {
			return fmt.Errorf("trace row %d: t_ms %q is not a non-decreasing number of milliseconds", n, rec[0])
		}
		last = ms
		ch := verify.Channel(rec[3])
		if ch != verify.ChannelSMS && ch != verify.ChannelCall && ch != verify.ChannelWhatsApp {
			return fmt.Errorf("trace row %d: channel %q is not sms, call or whatsapp", n, rec[3])
		}
		if rec[4] != "0" && rec[4] != "1" {
			return fmt.Errorf("trace row %d: enters_code %q is not 0 or 1", n, rec[4])
		}
		rw := row{t: time.Duration(ms) * time.Millisecond, ip: rec[1], to: rec[2], ch: ch, enter: rec[4] == "1"}
		// The record is reused: keep copies of its strings.
		rw.ip, rw.to = strings.Clone(rw.ip), strings.Clone(rw.to)
		if err := fn(n, rw); err != nil {
			return err
		}
	}
}
