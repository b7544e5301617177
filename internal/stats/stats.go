// Package stats serves GET /api/stats: a small JSON view of the server's
// metrics for dashboards (the demo app's /status page) that do not want to
// parse the Prometheus format. Rates are left to the reader: it polls and
// divides counter deltas by the elapsed time.
package stats

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Snapshot is the JSON body.
type Snapshot struct {
	Ready      bool                      `json:"ready"`
	Draining   bool                      `json:"draining"`
	TS         int64                     `json:"ts"`
	Sockets    map[string]map[string]int `json:"sockets"` // namespace -> transport -> count
	PlainWS    int                       `json:"plainWs"`
	EventsIn   float64                   `json:"eventsIn"`
	EventsOut  float64                   `json:"eventsOut"`
	BytesIn    float64                   `json:"bytesIn"`
	BytesOut   float64                   `json:"bytesOut"`
	Goroutines int                       `json:"goroutines"`
}

// Handler builds snapshots from the registry; state reports readiness.
type Handler struct {
	Registry *prometheus.Registry
	State    func() (ready, draining bool)
	// Authorize, when set, decides whether the request may read stats.
	Authorize func(*http.Request) bool
}

func (h Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.Authorize != nil && !h.Authorize(r) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"ok":false,"error":"unauthorized"}` + "\n"))
		return
	}
	s, err := h.Snapshot()
	if err != nil {
		http.Error(w, "gathering metrics failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(s)
}

// Snapshot reads the current values.
func (h Handler) Snapshot() (Snapshot, error) {
	families, err := h.Registry.Gather()
	if err != nil {
		return Snapshot{}, err
	}
	s := Snapshot{Sockets: map[string]map[string]int{}, TS: time.Now().UnixMilli()}
	s.Ready, s.Draining = h.State()
	for _, f := range families {
		for _, m := range f.GetMetric() {
			switch f.GetName() {
			case "sockside_sockets":
				ns, tr := label(m, "namespace"), label(m, "transport")
				if s.Sockets[ns] == nil {
					s.Sockets[ns] = map[string]int{}
				}
				s.Sockets[ns][tr] += int(m.GetGauge().GetValue())
			case "sockside_plain_ws_clients":
				s.PlainWS = int(m.GetGauge().GetValue())
			case "sockside_events_in_total":
				s.EventsIn += m.GetCounter().GetValue()
			case "sockside_events_out_total":
				s.EventsOut += m.GetCounter().GetValue()
			case "sockside_bytes_in_total":
				s.BytesIn += m.GetCounter().GetValue()
			case "sockside_bytes_out_total":
				s.BytesOut += m.GetCounter().GetValue()
			case "go_goroutines":
				s.Goroutines = int(m.GetGauge().GetValue())
			}
		}
	}
	return s, nil
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}
