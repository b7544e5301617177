package metrics

import (
	"math"
	"runtime"
	"runtime/metrics"
	"testing"
)

// Each runtime bucket lands at the first bound at or above its upper edge,
// cumulatively; what lies beyond the last bound only counts in the total.
func TestRebucket(t *testing.T) {
	h := &metrics.Float64Histogram{
		Buckets: []float64{math.Inf(-1), 5e-6, 20e-6, 30e-6, 2e-3, 1, math.Inf(1)},
		Counts:  []uint64{1, 2, 3, 4, 5, 6},
	}
	count, _, got := rebucket(h, []float64{10e-6, 50e-6, 5e-3})
	want := map[float64]uint64{10e-6: 1, 50e-6: 1 + 2 + 3, 5e-3: 1 + 2 + 3 + 4}
	if count != 21 {
		t.Fatalf("count %d, want 21", count)
	}
	for b, n := range want {
		if got[b] != n {
			t.Errorf("bucket le=%g: %d, want %d", b, got[b], n)
		}
	}
}

// The histogram is registered and counts the collections that happened.
func TestGCPauseHistogramExposed(t *testing.T) {
	runtime.GC()
	families, err := New().Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "sockside_gc_pause_seconds" {
			continue
		}
		h := f.GetMetric()[0].GetHistogram()
		if h.GetSampleCount() == 0 {
			t.Fatal("no pause counted after a GC")
		}
		if n := len(h.GetBucket()); n != len(gcPauseBuckets) {
			t.Fatalf("%d buckets, want %d", n, len(gcPauseBuckets))
		}
		return
	}
	t.Fatal("sockside_gc_pause_seconds not exposed")
}
