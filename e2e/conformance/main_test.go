package main

import (
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"
)

// goroutineGrace is how long sessions, timers and connections get to wind
// down after the last test before leftovers count as leaks.
const goroutineGrace = 5 * time.Second

// TestMain fails the run if the tests leave goroutines behind: every
// fixture, session, heartbeat timer and helper request must end with its
// test.
func TestMain(m *testing.M) {
	before := runtime.NumGoroutine()
	code := m.Run()
	if err := awaitGoroutines(before); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.Exit(code)
}

func awaitGoroutines(limit int) error {
	// Nothing signals the end of another package's goroutines: poll.
	deadline := time.Now().Add(goroutineGrace)
	for runtime.NumGoroutine() > limit {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			n := runtime.Stack(buf, true)
			return fmt.Errorf("%d goroutines left, %d before the tests:\n%s", runtime.NumGoroutine(), limit, buf[:n])
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}
