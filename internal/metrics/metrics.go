// Package metrics defines the server's Prometheus metrics. Each server owns a
// registry (not the global one) so tests can run several servers in a process.
package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Rejection reasons for refused handshakes, used as the "reason" label.
const (
	RejectOrigin       = "origin"       // Origin not allowed and not same-origin
	RejectDraining     = "draining"     // the server is shutting down
	RejectUnauthorized = "unauthorized" // missing, invalid or expired JWT
	RejectMiddleware   = "middleware"   // an application's connect middleware refused it
	RejectEngine       = "engine"       // Engine.IO refused it (bad transport, sid, method, ...)
)

// Metrics holds every collector the server updates.
type Metrics struct {
	Registry *prometheus.Registry

	Sockets   *prometheus.GaugeVec   // connected sockets by namespace and transport
	EventsIn  *prometheus.CounterVec // events received by namespace
	EventsOut *prometheus.CounterVec // events emitted by namespace (broadcasts count once)
	BytesIn   prometheus.Counter     // Engine.IO message payload bytes received
	BytesOut  prometheus.Counter     // Engine.IO message payload bytes sent
	Rejected  *prometheus.CounterVec // refused handshakes by reason
	Dropped   *prometheus.CounterVec // events refused or connections cut by reason
	PlainWS   prometheus.Gauge       // plain /ws clients

	// Redis scale-out (internal/cluster); only set when REDIS_URL is.
	AdapterUp      *prometheus.GaugeVec // 1 while Redis answers, 0 during an outage, by mode
	AdapterNodes   *prometheus.GaugeVec // nodes subscribed to the cluster channel, this one included
	AdapterOutages prometheus.Counter   // Redis outages begun
	AdapterErrors  prometheus.Counter   // Redis errors met by the adapter
}

// New creates and registers every collector, plus the Go runtime and process
// collectors (go_goroutines etc.).
func New() *Metrics {
	r := prometheus.NewRegistry()
	m := &Metrics{
		Registry: r,
		Sockets: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "sockside_sockets", Help: "Connected Socket.IO sockets by namespace and transport.",
		}, []string{"namespace", "transport"}),
		EventsIn: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sockside_events_in_total", Help: "Socket.IO events received, by namespace.",
		}, []string{"namespace"}),
		EventsOut: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sockside_events_out_total", Help: "Socket.IO events emitted by the server, by namespace (a broadcast counts once).",
		}, []string{"namespace"}),
		BytesIn: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sockside_bytes_in_total", Help: "Engine.IO message payload bytes received.",
		}),
		BytesOut: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sockside_bytes_out_total", Help: "Engine.IO message payload bytes sent.",
		}),
		Rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sockside_handshakes_rejected_total", Help: "Refused handshakes by reason.",
		}, []string{"reason"}),
		Dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sockside_dropped_total", Help: "Events refused and connections cut by the server, by reason.",
		}, []string{"reason"}),
		PlainWS: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sockside_plain_ws_clients", Help: "Connected plain WebSocket (/ws) clients.",
		}),
		AdapterUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "sockside_adapter_redis_up", Help: "1 while the Redis adapter reaches Redis, 0 during an outage (local clients are still served), by adapter mode.",
		}, []string{"mode"}),
		AdapterNodes: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "sockside_adapter_nodes", Help: "Socket.IO servers on the cluster channel (this one included), as last seen in Redis, by adapter mode.",
		}, []string{"mode"}),
		AdapterOutages: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sockside_adapter_outages_total", Help: "Redis outages begun (including one at start-up).",
		}),
		AdapterErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sockside_adapter_redis_errors_total", Help: "Redis errors met by the adapter (publishes, reads, counts).",
		}),
	}
	r.MustRegister(m.Sockets, m.EventsIn, m.EventsOut, m.BytesIn, m.BytesOut, m.Rejected, m.Dropped, m.PlainWS,
		m.AdapterUp, m.AdapterNodes, m.AdapterOutages, m.AdapterErrors,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		newGCPauseCollector())
	return m
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}
