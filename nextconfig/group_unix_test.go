//go:build unix

package main

import (
	"os/exec"
	"syscall"
)

// runGroup runs cmd as the leader of a process group of its own, and kills
// the whole group when cmd's context ends and again once cmd has exited:
// nothing it started (go run's build of nextconfig, a spawned server)
// outlives it.
func runGroup(cmd *exec.Cmd) error {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	err := cmd.Run()
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // ESRCH when the group is gone already
	}
	return err
}
