// Command fraudsim replays a trace of verification sends through a
// verify.Client with the recommended fraud guard, on a simulated clock,
// and says which sends the guard refused.
//
//	go run ./examples/fraudsim -trace FILE.csv > decisions.csv
//
// The trace is a CSV file with the header t_ms,ip,to,channel,enters_code:
// milliseconds from the trace's start (non-decreasing), the caller's IP
// address, an E.164 number, sms, call or whatsapp, and 1 if the person
// types the right code 20 s after the send. Standard output gets the CSV
// row,decision,reason (the 1-based data row; sent or refused; the policy
// or signal that refused, empty when sent) and nothing else; a summary
// goes to standard error.
//
// It also makes traces, and scores them:
//
//	go run ./examples/fraudsim -gen burst -seed 1 > burst.csv
//	go run ./examples/fraudsim -report        # the table in docs/fraud.md
//
// Traces: legit (three days of sign-ups in four home countries, with a
// daily curve, retries and a launch-day spike), and the same with one
// attack each: burst (sequential numbers in premium and high-cost ranges
// from hundreds of addresses), slowlow (under every per-address limit),
// homeprefix (a home country's premium range and prefixes, among its real
// users), oneperip (one send per address from 30,000 addresses) and
// firstday (five minutes after launch, before any history).
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"time"
)

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "fraudsim:", err)
		os.Exit(1)
	}
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fraudsim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	trace := fs.String("trace", "", "replay this trace (`FILE`.csv, or - for standard input)")
	genName := fs.String("gen", "", "write the named trace to standard output: legit, burst, slowlow, homeprefix, oneperip or firstday")
	report := fs.Bool("report", false, "generate every trace, replay it and print the results table")
	seed := fs.Uint64("seed", 1, "seed of the generated traces")
	days := fs.Int("days", 3, "days of legit traffic in a generated trace")
	scale := fs.Float64("scale", 1, "scale of the legit traffic (1: about 6,000 users a day)")
	recordOnly := fs.Bool("record-only", false, "run the guard in record-only mode: decide and log, but send")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case *trace != "":
		in := stdin
		if *trace != "-" {
			f, err := os.Open(*trace)
			if err != nil {
				return err
			}
			defer f.Close()
			in = f
		}
		sum, err := replay(in, stdout, *recordOnly)
		fmt.Fprint(stderr, sum)
		return err
	case *genName != "":
		rows, err := gen(*genName, *seed, *days, *scale)
		if err != nil {
			return err
		}
		return writeTrace(stdout, rows)
	case *report:
		var rs []result
		for _, name := range traceNames {
			rows, err := gen(name, *seed, *days, *scale)
			if err != nil {
				return err
			}
			r, err := measure(name, rows, *recordOnly)
			if err != nil {
				return err
			}
			fmt.Fprintf(stderr, "%s: %d rows in %v; refused by %v\n", name, len(rows), r.elapsed.Round(time.Millisecond), r.refusedBy)
			rs = append(rs, r)
		}
		table(stdout, rs)
		return nil
	}
	fs.Usage()
	return fmt.Errorf("one of -trace, -gen or -report is needed")
}
