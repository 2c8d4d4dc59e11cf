package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/verifykit/verifykit/verify"
)

// result measures a replay of a generated trace against its labels.
type result struct {
	name                          string
	attackSends, attackBlocked    int
	attackCost, attackCostBlocked float64
	legitSends, legitRefused      int
	legitUsers, usersNoCode       int
	timeToBlock                   time.Duration // from the attack's first send to its first refusal; -1: none
	attackStart                   time.Duration
	refusedBy                     map[string]int
	elapsed                       time.Duration
}

// measure replays rows and scores the outcomes.
func measure(name string, rows []genRow, recordOnly bool) (result, error) {
	begin := time.Now()
	r, err := newReplayer(recordOnly)
	if err != nil {
		return result{}, err
	}
	prices := verify.Prices()
	res := result{name: name, timeToBlock: -1, attackStart: -1, refusedBy: map[string]int{}}
	got := map[int]bool{} // legit users who got a code
	users := map[int]bool{}
	for _, rw := range rows {
		o := r.send(rw.row)
		if !o.sent {
			res.refusedBy[o.reason]++
		}
		if rw.attack {
			cost := prices.Of(rw.to, rw.ch)
			res.attackSends++
			res.attackCost += cost
			if res.attackStart < 0 {
				res.attackStart = rw.t
			}
			if !o.sent {
				res.attackBlocked++
				res.attackCostBlocked += cost
				if res.timeToBlock < 0 {
					res.timeToBlock = rw.t - res.attackStart
				}
			}
			continue
		}
		res.legitSends++
		users[rw.user] = true
		if o.sent {
			got[rw.user] = true
		} else {
			res.legitRefused++
		}
	}
	r.runChecks(1<<62 - 1)
	res.legitUsers = len(users)
	res.usersNoCode = len(users) - len(got)
	res.elapsed = time.Since(begin)
	return res, nil
}

func pct(a, b float64) string {
	if b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f %%", 100*a/b)
}

// table writes the results as a Markdown table.
func table(w io.Writer, rs []result) {
	fmt.Fprintln(w, "| trace | attack sends | blocked (count) | blocked (cost) | time to first block | legit sends | legit refused | legit users without a code |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range rs {
		ttb := "–"
		if r.timeToBlock >= 0 {
			ttb = r.timeToBlock.Round(time.Second).String()
		}
		fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %d | %s (%d) | %s (%d of %d) |\n",
			r.name, r.attackSends, pct(float64(r.attackBlocked), float64(r.attackSends)),
			pct(r.attackCostBlocked, r.attackCost), ttb, r.legitSends,
			pct(float64(r.legitRefused), float64(r.legitSends)), r.legitRefused,
			pct(float64(r.usersNoCode), float64(r.legitUsers)), r.usersNoCode, r.legitUsers)
	}
}

func sortedKeys(m map[string]int) []string { return slices.Sorted(maps.Keys(m)) }
