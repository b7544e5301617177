package handshake

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"
)

var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

func request(remote string, xff ...string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/socket.io/?EIO=4&transport=polling", nil)
	r.RemoteAddr = remote
	for _, v := range xff {
		r.Header.Add("X-Forwarded-For", v)
	}
	return r
}

func TestClientKey(t *testing.T) {
	l := New(1, append(loopback, netip.MustParsePrefix("10.0.0.0/8")))
	none := New(1, nil)
	for _, tc := range []struct {
		l      *Limiter
		req    *http.Request
		key    string
		counts bool
	}{
		{l, request("203.0.113.9:5000"), "203.0.113.9", true},
		{l, request("203.0.113.9:5000", "198.51.100.1"), "203.0.113.9", true}, // untrusted peer: XFF ignored
		{l, request("127.0.0.1:5000"), "", false},                             // Next's rewrite: no XFF, not attributable
		{l, request("127.0.0.1:5000", "198.51.100.1"), "198.51.100.1", true},
		{l, request("127.0.0.1:5000", "198.51.100.1, 10.1.2.3"), "198.51.100.1", true}, // skip trusted hops
		{l, request("127.0.0.1:5000", "6.6.6.6, 198.51.100.1"), "198.51.100.1", true},  // a client's own XFF entry is not believed
		{l, request("127.0.0.1:5000", "6.6.6.6", "198.51.100.1"), "198.51.100.1", true},
		{l, request("127.0.0.1:5000", "10.0.0.1, 10.0.0.2"), "10.0.0.1", true}, // all trusted: the farthest
		{l, request("127.0.0.1:5000", "bogus"), "invalid:bogus", true},
		{l, request("[::1]:5000", "2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64", true},
		{l, request("[::ffff:127.0.0.1]:5000", "::ffff:198.51.100.1"), "198.51.100.1", true},
		{none, request("127.0.0.1:5000", "198.51.100.1"), "127.0.0.1", true}, // trust none: the peer
	} {
		key, ok := tc.l.ClientKey(tc.req)
		if key != tc.key || ok != tc.counts {
			t.Errorf("peer %s XFF %q: key %q, %v; want %q, %v", tc.req.RemoteAddr, tc.req.Header.Values("X-Forwarded-For"), key, ok, tc.key, tc.counts)
		}
	}
}

func TestAllowBurstThenRate(t *testing.T) {
	l := New(5, nil) // burst 10
	now := time.Unix(1000, 0)
	for i := range 10 {
		if !l.Allow("a", now) {
			t.Fatalf("handshake %d of the burst refused", i)
		}
	}
	if l.Allow("a", now) {
		t.Fatal("11th handshake at once allowed")
	}
	if !l.Allow("b", now) {
		t.Fatal("another address refused")
	}
	if !l.Allow("a", now.Add(200*time.Millisecond)) {
		t.Fatal("not refilled after 1/rate")
	}
}

func TestIdleBucketsAreSwept(t *testing.T) {
	l := New(10, nil)
	now := time.Unix(1000, 0)
	for i := range 1000 {
		l.Allow(fmt.Sprint(i), now)
	}
	if n := l.Clients(); n != 1000 {
		t.Fatalf("%d clients tracked, want 1000", n)
	}
	l.Allow("late", now.Add(time.Minute))
	if n := l.Clients(); n != 1 {
		t.Fatalf("%d clients tracked after they went idle, want 1", n)
	}
}

func TestGate(t *testing.T) {
	l := New(1, nil) // burst 2
	var rejected []string
	h := l.Gate(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) }),
		func(_ *http.Request, key string) { rejected = append(rejected, key) })
	serve := func(r *http.Request) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	for range 2 {
		if w := serve(request("198.51.100.1:1")); w.Code != 200 {
			t.Fatalf("within the burst: %d", w.Code)
		}
	}
	w := serve(request("198.51.100.1:1"))
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "1" ||
		w.Body.String() != `{"code":429,"message":"too many handshakes"}`+"\n" {
		t.Fatalf("over the limit: %d %q %q", w.Code, w.Header(), w.Body)
	}
	if len(rejected) != 1 || rejected[0] != "198.51.100.1" {
		t.Fatalf("onReject saw %q", rejected)
	}
	// Requests of an open session and CORS preflights are not handshakes.
	sess := httptest.NewRequest(http.MethodPost, "/socket.io/?EIO=4&transport=polling&sid=abc", nil)
	sess.RemoteAddr = "198.51.100.1:1"
	if w := serve(sess); w.Code != 200 {
		t.Fatalf("session request: %d", w.Code)
	}
	pre := httptest.NewRequest(http.MethodOptions, "/socket.io/?EIO=4&transport=polling", nil)
	pre.RemoteAddr = "198.51.100.1:1"
	if w := serve(pre); w.Code != 200 {
		t.Fatalf("preflight: %d", w.Code)
	}
}

func TestNilLimiterIsOff(t *testing.T) {
	var l *Limiter = New(0, nil)
	next := http.NotFoundHandler()
	if l != nil || !l.Allow("a", time.Now()) {
		t.Fatal("rate 0 should turn the limit off")
	}
	if h := l.Gate(next, nil); fmt.Sprint(h) != fmt.Sprint(next) {
		t.Fatal("a nil limiter should not wrap")
	}
}
