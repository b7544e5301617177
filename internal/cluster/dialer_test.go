package cluster

import (
	"context"
	"net"
	"testing"
	"time"
)

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

// Unarmed (while namespaces are built) every dial fails at once; armed, the
// patient dial waits for the server instead of failing (so the library's
// receive loops cannot spin) and retries with backoff; disarm releases it.
func TestDialerBacksOff(t *testing.T) {
	d := newDialer(nil)
	addr := closedAddr(t)
	start := time.Now()
	if _, err := d.patient(context.Background(), "tcp", addr); err == nil {
		t.Fatal("dial to a closed port succeeded")
	}
	if time.Since(start) > time.Second {
		t.Fatal("unarmed dial did not fail fast")
	}

	d.arm()
	attempts := 0
	done := make(chan error, 1)
	go func() {
		_, err := d.patient(context.Background(), "tcp", addr)
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("armed dial returned while the server is away: %v", err)
	case <-time.After(3 * maxBackoff):
	}
	d.mu.Lock()
	attempts = d.failures
	d.mu.Unlock()
	// 1.5 s of waiting at 50, 100, 200, 400, 500... ms: a handful of tries.
	if attempts < 3 || attempts > 10 {
		t.Errorf("%d dial attempts in %s", attempts, 3*maxBackoff)
	}
	d.disarm()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("released dial succeeded")
		}
	case <-time.After(time.Second):
		t.Fatal("disarm did not release the waiting dial")
	}

	// A server that appears is found within the longest backoff.
	d2 := newDialer(nil)
	d2.arm()
	addr2 := closedAddr(t)
	go func() {
		_, err := d2.patient(context.Background(), "tcp", addr2)
		done <- err
	}()
	time.Sleep(2 * maxBackoff) // let it fail a few times first
	l, err := net.Listen("tcp", addr2)
	if err != nil {
		t.Skipf("port taken meanwhile: %v", err)
	}
	defer l.Close()
	appeared := time.Now()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Since(appeared); d > maxBackoff+200*time.Millisecond {
			t.Errorf("connected %s after the server appeared", d)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("did not connect after the server appeared")
	}
}
