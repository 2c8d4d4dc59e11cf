package main

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/nyaruka/phonenumbers/v2"

	"github.com/verifykit/verifykit/verify"
)

// The traces the generator makes: legit traffic alone, and legit traffic
// with one attack each.
var traceNames = []string{"legit", "burst", "slowlow", "homeprefix", "oneperip", "firstday"}

// genRow is a row of a generated trace with what the replay does not see:
// whether it is an attack, and which legit user sent it.
type genRow struct {
	row
	attack bool
	user   int // legit user, from 1; 0 for attacks
}

// gen makes the named trace from seed. days of legit traffic are
// scaled by scale (1: about 6,000 users a day in four home countries).
func gen(name string, seed uint64, days int, scale float64) ([]genRow, error) {
	if !slices.Contains(traceNames, name) {
		return nil, fmt.Errorf("unknown trace %q (want one of %v)", name, traceNames)
	}
	g := &generator{rnd: rand.New(rand.NewPCG(seed, uint64(len(name))))}
	g.legit(days, scale)
	day := 24 * time.Hour
	switch name {
	case "burst":
		// Sequential numbers in premium and high-cost prefixes, from
		// hundreds of addresses, 5,000 sends in half an hour.
		g.burst(day+13*time.Hour, 30*time.Minute, 5000, 300)
	case "slowlow":
		// Under every per-address limit: each of 2,000 addresses sends
		// about once every two hours, for two days.
		g.slowLow(day, 2*day, 6000, 2000)
	case "homeprefix":
		// Into a home country's premium range and into three of its mobile
		// prefixes a colluding carrier terminates, mixed with its real users.
		g.homePrefix(day+9*time.Hour, 12*time.Hour, 3000, 500)
	case "oneperip":
		// One send per address, from 30,000 addresses, in six hours.
		g.onePerIP(day+8*time.Hour, 6*time.Hour, 30000)
	case "firstday":
		// Five minutes after the launch, before any history.
		g.slowLow(5*time.Minute, 4*time.Hour, 4000, 1000)
	}
	slices.SortStableFunc(g.rows, func(a, b genRow) int {
		return int(a.t/time.Millisecond - b.t/time.Millisecond)
	})
	return g.rows, nil
}

type generator struct {
	rnd   *rand.Rand
	rows  []genRow
	users int
}

// home is a home country: its share of the traffic and how its mobile
// numbers are made.
type home struct {
	share float64
	num   func(r *rand.Rand) string
}

var homes = []home{
	{0.45, func(r *rand.Rand) string { // United States
		npas := []int{212, 213, 305, 312, 404, 415, 503, 617, 646, 702, 713, 206, 303, 512, 615, 919}
		return fmt.Sprintf("+1%d%d%02d%04d", npas[r.IntN(len(npas))], 2+r.IntN(8), r.IntN(100), r.IntN(10000))
	}},
	{0.25, func(r *rand.Rand) string { // United Kingdom
		return fmt.Sprintf("+447%d%08d", 4+r.IntN(6), r.IntN(1e8))
	}},
	{0.15, func(r *rand.Rand) string { // Germany
		pf := []string{"151", "152", "157", "160", "162", "170", "171", "172", "175", "176", "177", "178", "179"}
		return fmt.Sprintf("+49%s%08d", pf[r.IntN(len(pf))], r.IntN(1e8))
	}},
	{0.15, func(r *rand.Rand) string { // Brazil
		ddd := []int{11, 21, 31, 41, 51, 61, 71, 81}
		return fmt.Sprintf("+55%d9%08d", ddd[r.IntN(len(ddd))], r.IntN(1e8))
	}},
}

// valid returns a number make makes that the numbering plan accepts.
func valid(r *rand.Rand, make func(*rand.Rand) string) string {
	for range 1000 {
		if s := make(r); isValid(s) {
			return s
		}
	}
	panic("fraudsim: the numbering plan accepts no number of " + make(r))
}

// residential returns a caller address: mostly one of many home
// networks, sometimes a carrier-grade NAT shared by many, sometimes IPv6.
func (g *generator) residential() string {
	r := g.rnd
	switch x := r.Float64(); {
	case x < 0.05:
		return fmt.Sprintf("100.64.%d.%d", r.IntN(4), 1+r.IntN(50))
	case x < 0.25:
		return fmt.Sprintf("2a02:%x:%x:%x::%x", r.IntN(65536), r.IntN(65536), r.IntN(65536), 1+r.IntN(65535))
	default:
		return fmt.Sprintf("%d.%d.%d.%d", 11+r.IntN(180), r.IntN(256), r.IntN(256), 1+r.IntN(254))
	}
}

// channel picks a channel: mostly SMS.
func (g *generator) channel() verify.Channel {
	switch x := g.rnd.Float64(); {
	case x < 0.05:
		return verify.ChannelCall
	case x < 0.12:
		return verify.ChannelWhatsApp
	}
	return verify.ChannelSMS
}

// legit adds days of sign-ups with a daily curve (quiet at night, busy in
// the evening), a launch-day spike on the second day, and retries of the
// users who did not get or type the first code.
func (g *generator) legit(days int, scale float64) {
	const perDay = 6000.0
	for d := range days {
		for h := range 24 {
			rate := perDay / 24 * (1 + 0.7*math.Sin(float64(h-9)/24*2*math.Pi)) * scale
			if d == 1 && h >= 14 && h < 17 {
				rate *= 8 // launch day
			}
			n := int(rate + g.rnd.Float64())
			for range n {
				t := time.Duration(d)*24*time.Hour + time.Duration(h)*time.Hour + time.Duration(g.rnd.Int64N(int64(time.Hour)))
				g.user(t)
			}
		}
	}
}

// user adds one legit user's sends: 88 % type the first code; of the
// others, most retry once or twice.
func (g *generator) user(t time.Duration) {
	r := g.rnd
	g.users++
	x := r.Float64()
	var num string
	for _, h := range homes {
		if x < h.share {
			num = valid(r, h.num)
			break
		}
		x -= h.share
	}
	ip, ch := g.residential(), g.channel()
	for attempt := range 3 {
		enters := r.Float64() < []float64{0.88, 0.8, 0.7}[attempt]
		g.rows = append(g.rows, genRow{row: row{t: t, ip: ip, to: num, ch: ch, enter: enters}, user: g.users})
		if enters || r.Float64() < 0.2 {
			return
		}
		t += time.Duration(30+r.IntN(90)) * time.Second
	}
}

func (g *generator) attack(t time.Duration, ip, to string) {
	g.rows = append(g.rows, genRow{row: row{t: t, ip: ip, to: to, ch: verify.ChannelSMS}, attack: true})
}

// attackIP returns one of n attacker addresses: data-centre and proxy
// ranges, spread over many /24s.
func (g *generator) attackIP(i int) string {
	return fmt.Sprintf("%d.%d.%d.%d", 45+i%40, (i*7)%256, (i/3)%256, 1+i%250)
}

func (g *generator) burst(start, span time.Duration, n, ips int) {
	// Sequences: a premium satellite range, then high-cost mobile
	// ranges the list does not name.
	base := []int64{882163450000, 2207012000, 37120120000, 9647701000000}
	next := make([]int64, len(base))
	for i := range n {
		k := i % len(base)
		var to string
		for {
			to = "+" + strconv.FormatInt(base[k]+next[k], 10)
			next[k]++
			if isValid(to) {
				break
			}
		}
		g.attack(start+time.Duration(i)*span/time.Duration(n), g.attackIP(g.rnd.IntN(ips)), to)
	}
}

func isValid(s string) bool {
	n, err := phonenumbers.Parse(s, "")
	return err == nil && phonenumbers.IsValidNumber(n)
}

func (g *generator) slowLow(start, span time.Duration, n, ips int) {
	mk := []func(*rand.Rand) string{
		func(r *rand.Rand) string { return fmt.Sprintf("+23480%d%07d", 3+r.IntN(6), r.IntN(1e7)) },
		func(r *rand.Rand) string { return fmt.Sprintf("+8801%d%08d", 3+r.IntN(7), r.IntN(1e8)) },
		func(r *rand.Rand) string { return fmt.Sprintf("+99450%07d", r.IntN(1e7)) },
		func(r *rand.Rand) string { return fmt.Sprintf("+79%09d", r.IntN(1e9)) },
	}
	for i := range n {
		t := start + time.Duration(g.rnd.Int64N(int64(span)))
		g.attack(t, g.attackIP(i%ips), valid(g.rnd, mk[g.rnd.IntN(len(mk))]))
	}
}

func (g *generator) homePrefix(start, span time.Duration, n, ips int) {
	prefixes := []string{"+447911", "+447456", "+447893"}
	for i := range n {
		t := start + time.Duration(g.rnd.Int64N(int64(span)))
		var to string
		if i%4 == 0 {
			// Personal numbering, in the premium list.
			to = valid(g.rnd, func(r *rand.Rand) string { return fmt.Sprintf("+4470%08d", r.IntN(1e8)) })
		} else {
			pf := prefixes[g.rnd.IntN(len(prefixes))]
			to = valid(g.rnd, func(r *rand.Rand) string { return fmt.Sprintf("%s%06d", pf, r.IntN(1e6)) })
		}
		g.attack(t, g.attackIP(g.rnd.IntN(ips)), to)
	}
}

func (g *generator) onePerIP(start, span time.Duration, n int) {
	mk := []func(*rand.Rand) string{
		func(r *rand.Rand) string { return fmt.Sprintf("+628%d%08d", 1+r.IntN(8), r.IntN(1e8)) },
		func(r *rand.Rand) string { return fmt.Sprintf("+923%02d%07d", r.IntN(50), r.IntN(1e7)) },
		func(r *rand.Rand) string { return fmt.Sprintf("+96477%08d", r.IntN(1e8)) },
	}
	for i := range n {
		t := start + time.Duration(g.rnd.Int64N(int64(span)))
		ip := fmt.Sprintf("%d.%d.%d.%d", 1+i%223, (i>>8)%256, i%256, 1+(i*13)%254)
		if i%5 == 0 {
			ip = fmt.Sprintf("2001:db8:%x:%x::1", i>>4, i)
		}
		g.attack(t, ip, valid(g.rnd, mk[g.rnd.IntN(len(mk))]))
	}
}

// writeTrace writes rows as a trace.
func writeTrace(w io.Writer, rows []genRow) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	bw.WriteString(header + "\n")
	for _, r := range rows {
		b := strconv.AppendInt(make([]byte, 0, 64), int64(r.t/time.Millisecond), 10)
		b = append(append(append(append(append(b, ','), r.ip...), ','), r.to...), ',')
		b = append(append(b, r.ch...), ',')
		if r.enter {
			b = append(b, "1\n"...)
		} else {
			b = append(b, "0\n"...)
		}
		bw.Write(b)
	}
	return bw.Flush()
}
