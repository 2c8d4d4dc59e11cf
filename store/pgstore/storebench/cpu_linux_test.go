//go:build linux

package storebench

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cpu returns the CPU time, user and system, used so far by this process
// and by the servers it started (its descendants, read from /proc), so a
// benchmark can report the CPU a pair costs on each side: unlike pairs a
// second, that does not depend on what else the machine runs.
func cpu() (self, servers time.Duration) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	parent := map[int]int{}
	ticks := map[int]int64{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// The fields after the command name, in parentheses: state, ppid,
		// ... utime (the 14th field), stime, cutime, cstime.
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		if len(f) < 15 {
			continue
		}
		parent[pid], _ = strconv.Atoi(f[1])
		for _, s := range f[11:15] {
			n, _ := strconv.ParseInt(s, 10, 64)
			ticks[pid] += n
		}
	}
	me := os.Getpid()
	var t int64
	for pid, n := range ticks {
		for p := parent[pid]; p > 1; p = parent[p] {
			if p == me {
				t += n
				break
			}
		}
	}
	return self, time.Duration(t) * 10 * time.Millisecond // USER_HZ is 100 on Linux
}
