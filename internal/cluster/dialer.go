package cluster

import (
	"context"
	"crypto/tls"
	"net"
	"sync"
	"time"
)

// Reconnect backoff while Redis is away: the first retry after minBackoff,
// doubling up to maxBackoff. maxBackoff bounds how long after Redis returns
// the subscriptions come back.
const (
	minBackoff  = 50 * time.Millisecond
	maxBackoff  = 500 * time.Millisecond
	dialTimeout = 2 * time.Second
)

// dialer connects to Redis for both go-redis clients and keeps the receive
// loops from spinning while Redis is away.
//
// go-redis dials a new subscription connection whenever a receive on a
// broken one is retried, so a loop that retries at once with a failing dial
// turns into a busy loop (0.4 core and 10-20k errors a second per node,
// measured with the library's loops, which did). Once armed, the patient
// dial used by the subscriber client does not fail: it waits out a shared
// exponential backoff and tries again until it connects or its context
// ends, so a loop waiting for a connection sleeps instead of spinning.
//
// Before Arm, and after Disarm, every dial fails fast: an absent Redis must
// not hold up start-up (or shutdown).
type dialer struct {
	net net.Dialer
	tls *tls.Config

	mu       sync.Mutex
	armed    bool
	failures int
	next     time.Time     // no attempt before this while failing
	wake     chan struct{} // closed by Disarm to release waiting dials
}

func newDialer(tlsConfig *tls.Config) *dialer {
	return &dialer{
		net:  net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second},
		tls:  tlsConfig,
		wake: make(chan struct{}),
	}
}

// arm makes the patient dial wait for Redis instead of failing.
func (d *dialer) arm() {
	d.mu.Lock()
	d.armed = true
	d.mu.Unlock()
}

// disarm makes every dial, waiting ones included, fail fast from now on.
func (d *dialer) disarm() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.armed {
		d.armed = false
		close(d.wake)
	}
}

// once dials a single time: the command client's dialer. go-redis's pool
// itself stops dialing after a run of failures and probes once a second.
func (d *dialer) once(ctx context.Context, network, addr string) (net.Conn, error) {
	conn, err := d.dial(ctx, network, addr)
	d.record(err)
	return conn, err
}

// patient dials until it connects, waiting out the backoff between attempts,
// while armed; unarmed it behaves like once.
func (d *dialer) patient(ctx context.Context, network, addr string) (net.Conn, error) {
	for {
		wait, armed, wake := d.schedule()
		if armed && wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, ctx.Err()
			case <-wake:
				t.Stop()
			case <-t.C:
			}
		}
		conn, err := d.dial(ctx, network, addr)
		d.record(err)
		if err == nil {
			return conn, nil
		}
		if _, armed, _ := d.schedule(); !armed || ctx.Err() != nil {
			return nil, err
		}
	}
}

func (d *dialer) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if d.tls != nil {
		td := tls.Dialer{NetDialer: &d.net, Config: d.tls}
		return td.DialContext(ctx, network, addr)
	}
	return d.net.DialContext(ctx, network, addr)
}

func (d *dialer) schedule() (wait time.Duration, armed bool, wake <-chan struct{}) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return time.Until(d.next), d.armed, d.wake
}

func (d *dialer) record(err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err == nil {
		d.failures = 0
		d.next = time.Time{}
		return
	}
	d.failures++
	backoff := maxBackoff
	if d.failures < 8 {
		backoff = min(maxBackoff, minBackoff<<(d.failures-1))
	}
	if next := time.Now().Add(backoff); next.After(d.next) {
		d.next = next
	}
}
