// Package app assembles the server: configuration in, one http.Handler out,
// with a start-up path (New -> Serve) and a graceful drain (Shutdown).
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sockside/sockside/config"
	"github.com/sockside/sockside/internal/auth"
	"github.com/sockside/sockside/internal/cluster"
	"github.com/sockside/sockside/internal/emitapi"
	"github.com/sockside/sockside/internal/handshake"
	"github.com/sockside/sockside/internal/metrics"
	"github.com/sockside/sockside/internal/origin"
	"github.com/sockside/sockside/internal/plainws"
	"github.com/sockside/sockside/internal/sio"
	"github.com/sockside/sockside/internal/stats"
)

// App is a running server's parts.
type App struct {
	cfg     config.Config
	log     *slog.Logger
	metrics *metrics.Metrics
	sio     *sio.Server
	ws      *plainws.Hub
	cluster *cluster.Cluster // nil without REDIS_URL
	http    *http.Server
	ready   atomic.Bool
}

// New builds the application from cfg, with no namespace registered: add
// them on SocketIO before serving.
func New(cfg config.Config, log *slog.Logger) (*App, error) {
	a := &App{cfg: cfg, log: log, metrics: metrics.New()}
	policy := origin.NewPolicy(cfg.CORSOrigins)
	sopts := sio.Options{Config: cfg, Metrics: a.metrics, Logger: log}
	if cfg.AdapterMode() != "" {
		cl, err := cluster.New(cfg, cluster.Options{Logger: log, Metrics: a.metrics})
		if err != nil {
			return nil, err
		}
		a.cluster = cl
		sopts.Adapter = cl.AdapterFor(cfg.RecoveryWindow)
	}
	srv, err := sio.New(sopts)
	if err != nil {
		return nil, err
	}
	a.sio = srv
	a.ws = plainws.New(plainws.Options{
		MaxMessage:   cfg.MaxPayload,
		PingInterval: cfg.PingInterval,
		PingTimeout:  cfg.PingTimeout,
		CheckOrigin:  policy.Allows,
		OnCount:      func(n int) { a.metrics.PlainWS.Set(float64(n)) },
		Logger:       log,
	})

	rejectOrigin := func(r *http.Request) {
		a.metrics.Rejected.WithLabelValues(metrics.RejectOrigin).Inc()
		log.Debug("origin refused", "origin", r.Header.Get("Origin"), "host", r.Host, "x-forwarded-host", r.Header.Get("X-Forwarded-Host"))
	}
	httpCors := policy.HTTPCors()
	mux := http.NewServeMux()
	// Validated at load, so the error is nil.
	trusted, _ := cfg.TrustedProxyPrefixes()
	handshakes := handshake.New(cfg.HandshakeRate, trusted)
	rejectRate := func(r *http.Request, client string) {
		a.metrics.Rejected.WithLabelValues(metrics.RejectRateLimited).Inc()
		log.Debug("handshake rate limited", "client", client, "peer", r.RemoteAddr)
	}
	mux.Handle(cfg.Path, handshakes.Gate(policy.Gate(policy.SocketIOCors().Handler(a.sio.Handler()), rejectOrigin), rejectRate))
	if cfg.Demo {
		mux.Handle("/ws", policy.Gate(a.ws, rejectOrigin))
	}
	mux.Handle("/api/emit", httpCors.Handler(emitapi.New(emitTarget{a.sio}, cfg.EmitSecret, cfg.MaxPayload, log)))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", a.readyz)
	mux.Handle("GET /metrics", a.metrics.Handler())
	mux.Handle("/api/stats", httpCors.Handler(stats.Handler{
		Registry:  a.metrics.Registry,
		State:     func() (bool, bool) { return a.ready.Load(), a.sio.Draining() },
		Authorize: a.statsAuthorizer(),
	}))

	a.http = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		// Keep-alive connections between requests (long-polls come back
		// within a ping interval); hijacked websockets are not affected.
		IdleTimeout: 2 * time.Minute,
		ErrorLog:    slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	return a, nil
}

// Of returns the App a handler of the public package is built on. That
// package sets it when it loads, so that sockside's own white-box tests
// (e2e/conformance) reach the engine without the public API exporting
// anything internal.
var Of func(http.Handler) (*App, bool)

// SocketIO is the Socket.IO server, for registering namespaces.
func (a *App) SocketIO() *sio.Server { return a.sio }

// Start makes the application ready to serve once its namespaces are
// registered; Serve calls it, a caller serving Handler itself calls it
// first. With Redis, from here on a lost connection is retried with
// backoff, never blocking (the namespaces' adapters exist by now).
func (a *App) Start() {
	if a.cluster != nil {
		a.cluster.Start()
	}
	a.ready.Store(true)
}

// Handler is the full HTTP handler.
func (a *App) Handler() http.Handler { return a.http.Handler }

// Metrics exposes the registry (for tests).
func (a *App) Metrics() *metrics.Metrics { return a.metrics }

func (a *App) readyz(w http.ResponseWriter, _ *http.Request) {
	switch {
	case a.sio.Draining():
		http.Error(w, "draining", http.StatusServiceUnavailable)
	case !a.ready.Load():
		http.Error(w, "starting", http.StatusServiceUnavailable)
	default:
		_, _ = w.Write([]byte("ready\n"))
	}
}

// Serve accepts connections on ln until Shutdown; it returns nil after a
// clean shutdown.
func (a *App) Serve(ln net.Listener) error {
	a.Start()
	a.log.Info("sockside listening", "addr", ln.Addr().String(), "path", a.cfg.Path,
		"auth", a.cfg.AuthSecret != "", "emit_api", a.cfg.EmitSecret != "", "recovery", a.cfg.RecoveryWindow)
	if err := a.http.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serving: %w", err)
	}
	return nil
}

// Shutdown drains: readiness turns 503 and handshakes are refused at once,
// in-flight handlers finish (bounded by ctx), every client is disconnected
// so it reconnects elsewhere, then the HTTP server stops.
func (a *App) Shutdown(ctx context.Context) error {
	a.log.Info("draining", "sockets", a.sio.Connections())
	errs := []error{a.sio.Drain(ctx)}
	a.ws.Close()
	if err := a.http.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("http shutdown: %w", err))
		_ = a.http.Close()
	}
	if a.cluster != nil {
		// The drained sockets save their sessions to Redis as they close
		// (so they recover on another node): let them, within the drain
		// deadline. Then close Redis before the adapters, so that closing
		// cannot wait on it.
		a.waitSocketsClosed(ctx)
		if err := a.cluster.Close(); err != nil {
			errs = append(errs, fmt.Errorf("closing redis: %w", err))
		}
	}
	a.sio.Close()
	return errors.Join(errs...)
}

// waitSocketsClosed returns once no namespace has a socket left, or when
// ctx ends.
func (a *App) waitSocketsClosed(ctx context.Context) {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		if a.sio.Sockets() == 0 {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// statsAuthorizer protects /api/stats with the socket auth when it is on:
// the same JWT, as a bearer token or in the auth cookie.
func (a *App) statsAuthorizer() func(*http.Request) bool {
	if a.cfg.AuthSecret == "" {
		return nil
	}
	v := auth.NewVerifier(a.cfg.AuthSecret, a.cfg.AuthCookie)
	return func(r *http.Request) bool {
		token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if token == "" {
			token = v.FromHandshake(nil, r.Header)
		}
		_, err := v.Verify(token)
		return err == nil
	}
}

// emitTarget lets the emit API reach the namespaces the server serves.
type emitTarget struct{ srv *sio.Server }

func (t emitTarget) Emit(namespace, room, event string, args ...any) error {
	n, ok := t.srv.Resolve(namespace)
	if !ok {
		return emitapi.ErrUnknownNamespace
	}
	if room != "" {
		room = n.PublicRoom(room)
	}
	return n.EmitRaw(room, event, args...)
}
