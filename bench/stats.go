package main

import (
	"math"
	"slices"
	"sync/atomic"
	"time"
)

// histBuckets per factor e of latency: bucket i holds latencies around
// e^(i/histRes) microseconds, so a percentile is exact to about 1%.
const (
	histRes     = 100
	histBuckets = 19 * histRes // up to e^19 us, about 50 hours
)

// Hist is a log-bucketed latency histogram that many goroutines record into
// without locks.
type Hist struct {
	counts [histBuckets]atomic.Int64
	n      atomic.Int64
}

// Record adds one latency.
func (h *Hist) Record(d time.Duration) {
	us := float64(d) / float64(time.Microsecond)
	i := 0
	if us > 1 {
		i = int(math.Log(us) * histRes)
	}
	if i >= histBuckets {
		i = histBuckets - 1
	}
	h.counts[i].Add(1)
	h.n.Add(1)
}

// Count is the number of recorded latencies.
func (h *Hist) Count() int64 { return h.n.Load() }

// Quantile returns the q-quantile (0..1) in milliseconds, 0 when empty.
func (h *Hist) Quantile(q float64) float64 {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(n)))
	if rank < 1 {
		rank = 1
	}
	var seen int64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= rank {
			// The bucket's geometric middle.
			return math.Exp((float64(i)+0.5)/histRes) / 1000
		}
	}
	return math.Exp(float64(histBuckets)/histRes) / 1000
}

// Spread is the median and range of one metric over the repetitions.
type Spread struct {
	Median float64   `json:"median"`
	Min    float64   `json:"min"`
	Max    float64   `json:"max"`
	Values []float64 `json:"values"`
}

// spread summarises vs; NaN values (a repetition that did not produce the
// metric) are left out; ok is false when none is left.
func spread(vs []float64) (Spread, bool) {
	var xs []float64
	for _, v := range vs {
		if !math.IsNaN(v) {
			xs = append(xs, v)
		}
	}
	if len(xs) == 0 {
		return Spread{}, false
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return Spread{Median: med, Min: s[0], Max: s[len(s)-1], Values: xs}, true
}
