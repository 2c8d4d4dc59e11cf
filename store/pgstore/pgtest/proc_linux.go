package pgtest

import (
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"syscall"
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

// killGroup kills the process group of pid with SIGKILL.
func killGroup(pid int) { _ = syscall.Kill(-pid, syscall.SIGKILL) }

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
