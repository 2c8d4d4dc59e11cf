package redistest

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the server die when the test process does, even when
// the test binary is killed before its cleanups run.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
