package main

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// goroutineGrace is how long sessions, timers and connections get to wind
// down after the last test before leftovers count as leaks.
const goroutineGrace = 5 * time.Second

// TestMain fails the run if the tests leave goroutines behind: every
// fixture, session, heartbeat timer and helper request must end with its
// test. The engine's process-wide pollers and the handler workers waiting
// for their next frame (they stay for the process, or leave after a while
// idle) are not the tests'.
func TestMain(m *testing.M) {
	before, _ := ownGoroutines()
	code := m.Run()
	if err := awaitGoroutines(before); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.Exit(code)
}

// pooled marks the stacks of the engine's process-wide goroutines.
var pooled = []string{"github.com/lesismal/nbio", "internal/engine.(*workers)"}

// ownGoroutines counts the goroutines but the pooled ones, with their
// stacks.
func ownGoroutines() (int, string) {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	var kept []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if !slices.ContainsFunc(pooled, func(p string) bool { return strings.Contains(g, p) }) {
			count++
			kept = append(kept, g)
		}
	}
	return count, strings.Join(kept, "\n\n")
}

func awaitGoroutines(limit int) error {
	// Nothing signals the end of another package's goroutines: poll.
	deadline := time.Now().Add(goroutineGrace)
	for {
		n, stacks := ownGoroutines()
		if n <= limit {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d goroutines left, %d before the tests:\n%s", n, limit, stacks)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
