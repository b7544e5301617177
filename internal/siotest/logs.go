package siotest

import (
	"bytes"
	"sync"
)

// Logs is a log sink a server's goroutines may write to while a test reads
// it (a bytes.Buffer behind a mutex).
type Logs struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *Logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String is everything written so far.
func (l *Logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
