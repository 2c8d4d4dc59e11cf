//go:build !linux

package pgtest

import (
	"errors"
	"os"
	"os/exec"
)

type owner struct{}

func prepare(*exec.Cmd, *owner) {}

func killGroup(pid int) {
	if p, err := os.FindProcess(pid); err == nil {
		_ = p.Kill()
	}
}

func serverOwner() (*owner, error) {
	if os.Geteuid() == 0 {
		return nil, errors.New("pgtest: running as root is supported on Linux only")
	}
	return nil, nil
}

func chown(string, *owner) error { return nil }
