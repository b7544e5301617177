// Package handshake limits how fast one client address may open new
// Engine.IO sessions (handshakes), so a flood from one address is answered
// with a cheap 429 before the engine allocates anything for it.
//
// The client address is the TCP peer, or, when the peer is a trusted proxy,
// the nearest address in X-Forwarded-For that is not itself a trusted
// proxy. A trusted proxy's request without X-Forwarded-For cannot be
// attributed to a client and is not limited: that is every request through
// Next's rewrite, which sends none, so behind Next the limit belongs at the
// edge in front of Next.
package handshake

import (
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// maxClients bounds the per-address buckets kept; past it, new addresses
// share one bucket until idle ones are swept out.
const maxClients = 100_000

// overflowKey is the shared bucket of addresses beyond maxClients.
const overflowKey = "overflow"

// Limiter is a token bucket per client address: perSecond handshakes,
// bursts of twice that. Safe for concurrent use; a nil *Limiter allows
// everything.
type Limiter struct {
	limit   rate.Limit
	burst   int
	idle    time.Duration // a bucket unused this long is full again and dropped
	trusted []netip.Prefix

	mu        sync.Mutex
	buckets   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// New returns a limiter, or nil when perSecond is 0 (limit off). trusted
// lists the proxies whose X-Forwarded-For is believed.
func New(perSecond float64, trusted []netip.Prefix) *Limiter {
	if perSecond <= 0 {
		return nil
	}
	burst := max(int(2*perSecond), 1)
	refill := time.Duration(float64(burst) / perSecond * float64(time.Second))
	return &Limiter{
		limit:   rate.Limit(perSecond),
		burst:   burst,
		idle:    refill + time.Second,
		trusted: trusted,
		buckets: map[string]*bucket{},
	}
}

// Allow reports whether a handshake from key (see ClientKey) may go ahead
// at now.
func (l *Limiter) Allow(key string, now time.Time) bool {
	if l == nil {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) >= time.Second {
		l.sweep(now)
	}
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= maxClients {
			key = overflowKey
			b = l.buckets[key]
		}
		if b == nil {
			b = &bucket{lim: rate.NewLimiter(l.limit, l.burst)}
			l.buckets[key] = b
		}
	}
	b.seen = now
	return b.lim.AllowN(now, 1)
}

// sweep drops buckets idle long enough to have refilled; callers hold mu.
func (l *Limiter) sweep(now time.Time) {
	l.lastSweep = now
	for k, b := range l.buckets {
		if now.Sub(b.seen) > l.idle {
			delete(l.buckets, k)
		}
	}
}

// Clients is the number of addresses being tracked (for tests).
func (l *Limiter) Clients() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// ClientKey names the client of r for the limit; ok is false when r cannot
// be attributed (a trusted proxy that sent no X-Forwarded-For). IPv6
// addresses are keyed by their /64, which one client usually holds whole.
func (l *Limiter) ClientKey(r *http.Request) (key string, ok bool) {
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr, true
	}
	addr := peer.Addr().Unmap()
	if !l.isTrusted(addr) {
		return keyOf(addr), true
	}
	hops := forwardedFor(r.Header)
	if len(hops) == 0 {
		return "", false
	}
	// The rightmost entries were added by our own proxies; the first one
	// that is not a trusted proxy is the client as far as we can know.
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(hops[i])
		if err != nil {
			return "invalid:" + hops[i], true
		}
		a = a.Unmap()
		if !l.isTrusted(a) || i == 0 {
			return keyOf(a), true
		}
	}
	return "", false // unreachable: i == 0 returns
}

func (l *Limiter) isTrusted(a netip.Addr) bool {
	for _, p := range l.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func keyOf(a netip.Addr) string {
	if a.Is6() {
		p, _ := a.WithZone("").Prefix(64)
		return p.String()
	}
	return a.String()
}

// forwardedFor lists the X-Forwarded-For entries of every such header, in
// order, trimmed and without empty ones; at most 64 (a longer chain is an
// attack, not a route).
func forwardedFor(h http.Header) []string {
	var hops []string
	for _, v := range h.Values("X-Forwarded-For") {
		for item := range strings.SplitSeq(v, ",") {
			if item = strings.TrimSpace(item); item != "" {
				hops = append(hops, item)
			}
		}
	}
	if len(hops) > 64 {
		hops = hops[len(hops)-64:]
	}
	return hops
}

// IsHandshake reports whether r opens a new Engine.IO session: a request
// to the Engine.IO path without a session id (a polling handshake or a
// websocket connection without prior polling). CORS preflights are not.
func IsHandshake(r *http.Request) bool {
	return r.Method != http.MethodOptions && !r.URL.Query().Has("sid")
}

// Gate answers handshakes over the limit with 429 and a JSON body in the
// Engine.IO error shape, {"code":429,"message":"too many handshakes"}, and
// a Retry-After; everything else goes to next. onReject is told about each
// refusal. A nil *Limiter returns next itself.
func (l *Limiter) Gate(next http.Handler, onReject func(r *http.Request, key string)) http.Handler {
	if l == nil {
		return next
	}
	retryAfter := strconv.Itoa(max(1, int(math.Ceil(1/float64(l.limit)))))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if IsHandshake(r) {
			if key, ok := l.ClientKey(r); ok && !l.Allow(key, time.Now()) {
				if onReject != nil {
					onReject(r, key)
				}
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Retry-After", retryAfter)
				w.WriteHeader(http.StatusTooManyRequests)
				_, _ = w.Write([]byte(`{"code":429,"message":"too many handshakes"}` + "\n"))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
