package main

import (
	"math"
	"testing"
)

// The p99 of an interval comes from the bucket deltas, not the totals since
// the start.
func TestPauseP99(t *testing.T) {
	inf := math.Inf(1)
	prev := map[float64]float64{1e-4: 100, 1e-3: 100, 1e-2: 100, inf: 100}
	cur := map[float64]float64{1e-4: 150, 1e-3: 198, 1e-2: 200, inf: 200}
	if got := pauseP99(prev, cur); got != 1e-2 { // 98 of the 100 new pauses within 1 ms: the 99th is in the 10 ms bucket
		t.Fatalf("p99 = %g, want 0.01", got)
	}
	if got := pauseP99(cur, cur); got != 0 {
		t.Fatalf("no pause in the interval: p99 = %g, want 0", got)
	}
	if got := pauseP99(nil, nil); !math.IsNaN(got) {
		t.Fatalf("no histogram: p99 = %g, want NaN", got)
	}
	first := map[float64]float64{1e-4: 98, 1e-3: 100, inf: 100}
	if got := pauseP99(nil, first); got != 1e-3 {
		t.Fatalf("first interval: p99 = %g, want 0.001", got)
	}
}
