package pgtest

import (
	"bytes"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// prepare makes cmd die with the test process (even when the test binary
// is killed before its cleanups run), puts it in a process group of its
// own, so that Kill reaches the server's children too, and runs it as
// the postgres user when the test runs as root (PostgreSQL refuses root).
func prepare(cmd *exec.Cmd, owner *owner) {
	attr := &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if owner != nil {
		attr.Credential = &syscall.Credential{Uid: owner.uid, Gid: owner.gid}
	}
	cmd.SysProcAttr = attr
}

// killGroup kills pid, the postmaster, and its children with SIGKILL, as
// a crash of the machine would. The children are not in its process
// group (each calls setsid): the postmaster is stopped first, so that it
// starts no more, and its children are found in /proc.
func killGroup(pid int) {
	_ = syscall.Kill(pid, syscall.SIGSTOP)
	var children []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces and parentheses.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			_ = syscall.Kill(child, syscall.SIGKILL)
			children = append(children, child)
		}
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	_ = syscall.Kill(pid, syscall.SIGKILL)
	// Wait until the children have exited (gone, or zombies), so that
	// their connections are closed when Kill returns.
	deadline := time.Now().Add(10 * time.Second)
	for _, c := range children {
		for time.Now().Before(deadline) {
			stat, err := os.ReadFile("/proc/" + strconv.Itoa(c) + "/stat")
			i := bytes.LastIndexByte(stat, ')')
			if err != nil || i < 0 || strings.HasPrefix(strings.TrimSpace(string(stat[i+1:])), "Z") {
				break
			}
			time.Sleep(time.Millisecond) // a process being killed, not a test's timing
		}
	}
}

type owner struct{ uid, gid uint32 }

// serverOwner returns the postgres user when this process runs as root,
// nil otherwise.
func serverOwner() (*owner, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, err
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, err
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, err
	}
	return &owner{uint32(uid), uint32(gid)}, nil
}

// chown gives path to o.
func chown(path string, o *owner) error {
	if o == nil {
		return nil
	}
	return os.Chown(path, int(o.uid), int(o.gid))
}
