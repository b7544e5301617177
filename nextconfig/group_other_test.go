//go:build !unix

package main

import "os/exec"

// runGroup runs cmd; without process groups, its context's end kills cmd
// alone.
func runGroup(cmd *exec.Cmd) error {
	return cmd.Run()
}
