//go:build linux

package fake_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"syscall"
	"testing"
	"time"
)

// BenchmarkPushApproveCPU is BenchmarkPushApprove measured in CPU time
// (the process's user and system time, garbage collection included), with
// one bare P-256 verify per login timed the same way while the device
// signs. On a loaded machine the CPU time, and above all its ratio to the
// bare verify (verifies/op), swing much less than the wall time; the goal
// of at most 100 µs is about 1.2 verifies of this CPU.
func BenchmarkPushApproveCPU(b *testing.B) {
	f, d, req := benchPush(b)
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	h := sha256.Sum256([]byte("login"))
	sig, _ := ecdsa.SignASN1(rand.Reader, k, h[:])
	var login, bare time.Duration
	verifies, t0 := 0, cpu()
	logins(b, f, d, req, func(pause bool) {
		if !pause {
			t0 = cpu()
			return
		}
		login += cpu() - t0
		t1 := cpu()
		for range 50 {
			ecdsa.VerifyASN1(&k.PublicKey, h[:], sig)
		}
		bare, verifies = bare+cpu()-t1, verifies+50
	})
	login += cpu() - t0
	b.ReportMetric(float64(login)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(bare)/float64(verifies), "verify-cpu-ns")
	b.ReportMetric(float64(login)/float64(b.N)/(float64(bare)/float64(verifies)), "verifies/op")
}

// cpu is the CPU time, user and system, this process has used.
func cpu() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
