// Package ratelimit bounds the events one socket may send. A token bucket
// (rate r, burst 2r) admits events; refused events draw from a second,
// slower bucket of violations, and a socket that exhausts that one is a
// persistent offender to be disconnected. A brief burst over the limit only
// costs the client a few "rate limited" acks.
package ratelimit

import (
	"time"

	"golang.org/x/time/rate"
)

// Verdict is the outcome for one event.
type Verdict int

const (
	// Allow: handle the event.
	Allow Verdict = iota
	// Refuse: answer "rate limited" and drop the event.
	Refuse
	// Disconnect: the socket kept sending far over its limit.
	Disconnect
)

// Limiter is one socket's limiter. Calls from the socket's own serial event
// queue only; it is not shared between sockets.
type Limiter struct {
	events     *rate.Limiter
	violations *rate.Limiter
}

// New returns a limiter for perSecond events (burst twice that), or nil when
// perSecond is 0 (limits off). A nil *Limiter allows everything.
func New(perSecond float64) *Limiter {
	if perSecond <= 0 {
		return nil
	}
	burst := max(int(2*perSecond), 1)
	// Violations refill at a tenth of the rate and tolerate one second's worth
	// of refused events: a client at 1.5x the limit is cut off within seconds,
	// a client that once double-clicks a send button never is.
	return &Limiter{
		events:     rate.NewLimiter(rate.Limit(perSecond), burst),
		violations: rate.NewLimiter(rate.Limit(perSecond/10), max(int(perSecond), 1)),
	}
}

// Check judges one event arriving at now.
func (l *Limiter) Check(now time.Time) Verdict {
	if l == nil || l.events.AllowN(now, 1) {
		return Allow
	}
	if l.violations.AllowN(now, 1) {
		return Refuse
	}
	return Disconnect
}
