package ratelimit

import (
	"testing"
	"time"
)

// t0 is an arbitrary fixed instant; every test drives time from it through
// Check(now), never from the wall clock.
var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// send calls Check n times at now and counts the verdicts.
func send(l *Limiter, now time.Time, n int) map[Verdict]int {
	got := map[Verdict]int{}
	for range n {
		got[l.Check(now)]++
	}
	return got
}

func TestNilLimiterAllowsEverything(t *testing.T) {
	for _, perSecond := range []float64{0, -1} {
		l := New(perSecond)
		if l != nil {
			t.Fatalf("New(%v) = %v, want nil (limits off)", perSecond, l)
		}
		if got := send(l, t0, 10_000); got[Allow] != 10_000 {
			t.Errorf("New(%v): verdicts %v, want all Allow", perSecond, got)
		}
	}
}

func TestAllowWithinRate(t *testing.T) {
	l := New(10)
	// 10 events/s spread evenly for a minute: never over the limit.
	for i := range 600 {
		now := t0.Add(time.Duration(i) * 100 * time.Millisecond)
		if v := l.Check(now); v != Allow {
			t.Fatalf("event %d at %s: %v, want Allow", i, now.Sub(t0), v)
		}
	}
}

func TestAllowBurstTwiceRate(t *testing.T) {
	tests := []struct {
		perSecond float64
		burst     int
	}{
		{10, 20},
		{100, 200},
		{0.5, 1}, // the burst never drops below one event
	}
	for _, tt := range tests {
		l := New(tt.perSecond)
		if got := send(l, t0, tt.burst); got[Allow] != tt.burst {
			t.Errorf("New(%v): first %d events at once: %v, want all Allow", tt.perSecond, tt.burst, got)
		}
		if v := l.Check(t0); v != Refuse {
			t.Errorf("New(%v): event %d at once: %v, want Refuse", tt.perSecond, tt.burst+1, v)
		}
	}
}

func TestRefuseBeyondBurstThenRecover(t *testing.T) {
	l := New(10)
	send(l, t0, 20) // drain the burst
	if got := send(l, t0, 5); got[Refuse] != 5 {
		t.Fatalf("5 events over the burst: %v, want 5 Refuse", got)
	}
	// 100 ms refills one event at 10/s.
	if v := l.Check(t0.Add(100 * time.Millisecond)); v != Allow {
		t.Errorf("after 100 ms: %v, want Allow", v)
	}
	// A quiet second refills the rest.
	if got := send(l, t0.Add(1100*time.Millisecond), 10); got[Allow] != 10 {
		t.Errorf("after a quiet second: %v, want 10 Allow", got)
	}
}

func TestDisconnectPersistentOffender(t *testing.T) {
	l := New(10)
	// Burst of 20 allowed, then one second's worth (10) of refusals is
	// tolerated, then the socket is cut off.
	got := send(l, t0, 30)
	if got[Allow] != 20 || got[Refuse] != 10 {
		t.Fatalf("first 30 events at once: %v, want 20 Allow and 10 Refuse", got)
	}
	if v := l.Check(t0); v != Disconnect {
		t.Errorf("event 31 at once: %v, want Disconnect", v)
	}
}

// The package promise: a client at 1.5x the limit is cut off within
// seconds; one that double-clicks once never is.
func TestSustainedOverloadDisconnects(t *testing.T) {
	l := New(10)
	step := time.Second / 15 // 15 events/s
	for i := range 15 * 20 {
		now := t0.Add(time.Duration(i) * step)
		if l.Check(now) == Disconnect {
			if d := now.Sub(t0); d > 10*time.Second {
				t.Errorf("disconnected only after %s at 1.5x the rate", d)
			}
			return
		}
	}
	t.Fatal("never disconnected after 20 s at 1.5x the rate")
}

func TestOccasionalBurstNeverDisconnects(t *testing.T) {
	l := New(10)
	// Every 5 s a burst of 25 (burst + 5), then quiet: some refusals, never
	// a disconnect.
	for round := range 20 {
		now := t0.Add(time.Duration(round) * 5 * time.Second)
		got := send(l, now, 25)
		if got[Disconnect] != 0 {
			t.Fatalf("round %d: %v, want no Disconnect", round, got)
		}
		if got[Allow] != 20 || got[Refuse] != 5 {
			t.Errorf("round %d: %v, want 20 Allow and 5 Refuse", round, got)
		}
	}
}
