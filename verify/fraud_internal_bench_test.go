package verify

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/verifykit/verifykit/store"
)

// benchGuard returns a client with the recommended fraud guard on a
// memory store whose clock is *now.
func benchGuard(b testing.TB, now *time.Time) *Client {
	s, err := store.NewMemory(store.WithClock(func() time.Time { return *now }))
	if err != nil {
		b.Fatal(err)
	}
	g := RecommendedFraudGuard()
	g.Now = func() time.Time { return *now }
	c, err := New(nopP{}, WithPolicyStore(s), WithFraudGuard(g))
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// BenchmarkFraudDecision measures one decision of the recommended fraud
// guard on the memory store, as Start makes it (the premium ranges, the
// velocity, conversion and sequence keys, one Take, the request's return
// to its pool), for sends that pass: distinct callers and numbers, with a
// clock that moves three hours per iteration.
func BenchmarkFraudDecision(b *testing.B) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := benchGuard(b, &now)
	ctx := context.Background()
	tos := make([]target, 1<<12)
	keys := make([]map[string]string, len(tos))
	for i := range tos {
		tos[i] = target{value: "+1" + strconv.Itoa(2000000000+i*104729)}
		keys[i] = map[string]string{"ip": "198.51." + strconv.Itoa(i>>8) + "." + strconv.Itoa(i&255)}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		j := i & (len(tos) - 1)
		i++
		now = now.Add(3 * time.Hour)
		r, err := c.startPolicy(ctx, tos[j], ChannelSMS, keys[j])
		if err != nil {
			b.Fatal(err)
		}
		_ = c.finish(ctx, r, true)
	}
}

// BenchmarkFraudRefuse measures decisions under attack: every send goes
// to one prefix from rotating addresses, and all but the first few are
// refused by the conversion signal. Decisions per second on one core is
// 1e9 / ns/op (go test -bench Fraud -cpu 1).
func BenchmarkFraudRefuse(b *testing.B) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := benchGuard(b, &now)
	ctx := context.Background()
	tos := make([]target, 1<<12)
	keys := make([]map[string]string, len(tos))
	for i := range tos {
		tos[i] = target{value: "+23480" + strconv.Itoa(31000000+i*131)}
		keys[i] = map[string]string{"ip": "203.0." + strconv.Itoa(i>>8) + "." + strconv.Itoa(i&255)}
	}
	b.ReportAllocs()
	refused := 0
	i := 0
	for b.Loop() {
		j := i & (len(tos) - 1)
		i++
		r, err := c.startPolicy(ctx, tos[j], ChannelSMS, keys[j])
		if _, ok := err.(*PolicyError); ok {
			refused++
		} else if err != nil {
			b.Fatal(err)
		}
		_ = c.finish(ctx, r, true)
	}
	if refused < i-10 {
		b.Fatalf("%d of %d refused", refused, i)
	}
}

// BenchmarkFraudDecisionMix measures the decisions of
// BenchmarkFraudDecision on a realistic key mix rather than the worst
// case: every number and caller address is new, but the numbers fall in
// 42 mobile prefixes of four home countries (with the shares of
// examples/fraudsim's legit traces: 45 %, 25 %, 15 %, 15 %) and the
// callers in 1,024 IP ranges (a fifth of them IPv6 /48s), one send a
// second. So the country, prefix and range counters mostly exist, and
// the address and number-block counters are new. The approvals that keep
// the conversion allowances open are taught to the client's cache at each
// new hour and day, outside the timer.
func BenchmarkFraudDecisionMix(b *testing.B) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := benchGuard(b, &now)
	f := c.cfg.policy.fraud
	ctx := context.Background()
	countries := []struct {
		cc    string
		share int // of 20
		pfs   []string
	}{
		{"+1", 9, []string{"212", "213", "305", "312", "404", "415", "503", "617", "646", "702", "713", "206", "303", "512", "615", "919"}},
		{"+44", 5, []string{"74", "75", "77", "78", "79"}},
		{"+49", 3, []string{"151", "152", "157", "160", "162", "170", "171", "172", "175", "176", "177", "178", "179"}},
		{"+55", 3, []string{"11", "21", "31", "41", "51", "61", "71", "81"}},
	}
	var ccs, prefixes []string
	var byShare []int
	for i, ct := range countries {
		ccs = append(ccs, ct.cc)
		for range ct.share {
			byShare = append(byShare, i)
		}
	}
	tos := make([]target, 1<<16)
	keys := make([]map[string]string, len(tos))
	seen := map[string]bool{}
	for i := range tos {
		ct := countries[byShare[(i*7)%len(byShare)]]
		n := (ct.cc + ct.pfs[(i/20)%len(ct.pfs)] + "0123")[:1+f.digits]
		x := uint64(i+1) * 0x9e3779b97f4a7c15
		for len(n) < len(ct.cc)+10 {
			x = x*6364136223846793005 + 1442695040888963407
			n += strconv.Itoa(int(x>>60) % 10)
		}
		if p := n[:1+f.digits]; !seen[p] {
			seen[p] = true
			prefixes = append(prefixes, p)
		}
		tos[i] = target{value: n}
		r := (i * 40503) % 1024
		ip := "100." + strconv.Itoa(64+r>>8) + "." + strconv.Itoa(r&255) + "." + strconv.Itoa(1+i>>10)
		if r%5 == 0 {
			ip = "2a02:" + strconv.FormatInt(int64(r), 16) + ":1:" + strconv.FormatInt(int64(i), 16) + "::1"
		}
		keys[i] = map[string]string{"ip": ip}
	}
	teach := func(hour, day int64) {
		for _, cc := range ccs {
			f.learn('h', cc, hour, 1e6)
			f.learn('d', cc, day, 1e6)
		}
		for _, p := range prefixes {
			f.learn('H', p, hour, 1e6)
			f.learn('D', p, day, 1e6)
		}
	}
	b.ReportAllocs()
	i, hour := 0, int64(-1)
	for b.Loop() {
		j := i & (len(tos) - 1)
		i++
		now = now.Add(time.Second)
		if h := now.Unix() / 3600; h != hour {
			b.StopTimer()
			hour = h
			teach(h, now.Unix()/86400)
			b.StartTimer()
		}
		r, err := c.startPolicy(ctx, tos[j], ChannelSMS, keys[j])
		if err != nil {
			b.Fatal(i, tos[j].value, keys[j], err)
		}
		_ = c.finish(ctx, r, true)
	}
}
