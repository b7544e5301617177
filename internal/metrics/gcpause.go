package metrics

import (
	"math"
	"runtime/metrics"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// gcPauseBuckets are the upper bounds (seconds) of sockside_gc_pause_seconds.
var gcPauseBuckets = []float64{
	10e-6, 25e-6, 50e-6, 100e-6, 250e-6, 500e-6,
	1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3, 100e-3, 250e-3,
}

const gcPauseMetric = "/sched/pauses/total/gc:seconds"

// gcPauseCollector exposes the runtime's distribution of GC stop-the-world
// pauses as a histogram fine enough for a p99.
//
// Why not the Go collector's: go_gc_duration_seconds is a summary without
// a p99, and the runtime/metrics histogram it can export instead has
// buckets a factor of ten apart.
type gcPauseCollector struct {
	desc *prometheus.Desc

	mu     sync.Mutex
	sample []metrics.Sample
}

func newGCPauseCollector() *gcPauseCollector {
	return &gcPauseCollector{
		desc: prometheus.NewDesc("sockside_gc_pause_seconds",
			"Stop-the-world pauses of the garbage collector (runtime/metrics "+gcPauseMetric+").", nil, nil),
		sample: []metrics.Sample{{Name: gcPauseMetric}},
	}
}

func (c *gcPauseCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *gcPauseCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	metrics.Read(c.sample)
	v := c.sample[0].Value
	c.mu.Unlock()
	if v.Kind() != metrics.KindFloat64Histogram {
		return
	}
	count, sum, buckets := rebucket(v.Float64Histogram(), gcPauseBuckets)
	ch <- prometheus.MustNewConstHistogram(c.desc, count, sum, buckets)
}

// rebucket folds a runtime histogram into cumulative counts at bounds. A
// runtime bucket is counted at the first bound at or above its upper edge,
// so a quantile read from the result is never below the true one. The sum
// is estimated from bucket midpoints (the runtime keeps none).
func rebucket(h *metrics.Float64Histogram, bounds []float64) (uint64, float64, map[float64]uint64) {
	out := make(map[float64]uint64, len(bounds))
	var total uint64
	var sum float64
	for i, n := range h.Counts {
		if n == 0 {
			continue
		}
		lo, hi := h.Buckets[i], h.Buckets[i+1]
		total += n
		if !math.IsInf(lo, 0) && !math.IsInf(hi, 0) {
			sum += float64(n) * (lo + hi) / 2
		} else if !math.IsInf(lo, 0) {
			sum += float64(n) * lo
		}
		for _, b := range bounds {
			if hi <= b {
				out[b] += n
			}
		}
	}
	for _, b := range bounds {
		if _, ok := out[b]; !ok {
			out[b] = 0
		}
	}
	return total, sum, out
}
