// Package sio assembles the Socket.IO server from the configuration and
// gives namespaces a small typed API: Handle registers an event whose payload
// and ack have Go types, Emits declares a server-to-client event. Every
// handler goes through one dispatcher that applies the rate limit, counts
// metrics, tracks in-flight work for the graceful drain and turns errors and
// panics into `{ok:false, error}` acks. The declared types also feed the
// TypeScript event map generator.
package sio

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/sockside/sockside/config"
	"github.com/sockside/sockside/internal/auth"
	"github.com/sockside/sockside/internal/engine"
	"github.com/sockside/sockside/internal/metrics"
	"github.com/sockside/sockside/internal/socketio"
)

// Options are what New needs besides the configuration.
type Options struct {
	Config  config.Config
	Metrics *metrics.Metrics
	Logger  *slog.Logger
	// Adapter links the namespaces to the other nodes (Redis scale-out);
	// nil: one node.
	Adapter socketio.AdapterFor
}

// ErrDraining is the handshake refusal while the server shuts down.
var ErrDraining = errors.New("server draining")

// ErrInvalidNamespace refuses a connect to a namespace nobody registered,
// in Node's words.
var ErrInvalidNamespace = errors.New("Invalid namespace")

// Server is the Socket.IO server with the project's namespaces.
type Server struct {
	io       *socketio.Server
	cfg      config.Config
	metrics  *metrics.Metrics
	log      *slog.Logger
	verifier *auth.Verifier

	draining atomic.Bool
	inflight inflight

	mu         sync.Mutex
	namespaces map[string]*Namespace
	order      []*Namespace

	fallback fallback // namespaces nobody registered (SetFallback)
}

// New builds the server; call Namespace to add namespaces before serving.
func New(o Options) (*Server, error) {
	cfg := o.Config
	s := &Server{
		cfg:        cfg,
		metrics:    o.Metrics,
		log:        o.Logger,
		namespaces: map[string]*Namespace{},
	}
	if cfg.AuthSecret != "" {
		s.verifier = auth.NewVerifier(cfg.AuthSecret, cfg.AuthCookie)
	}
	m := o.Metrics
	ecfg := engine.Default()
	ecfg.PingInterval, ecfg.PingTimeout, ecfg.MaxPayload, ecfg.SendBuffer = cfg.PingInterval, cfg.PingTimeout, cfg.MaxPayload, cfg.SendBuffer
	ecfg.Logger = o.Logger
	ecfg.AllowRequest = func(*http.Request) error {
		if s.draining.Load() {
			m.Rejected.WithLabelValues(metrics.RejectDraining).Inc()
			return ErrDraining
		}
		return nil
	}
	ecfg.Counters = engine.Counters{
		Received: func(n int) { m.BytesIn.Add(float64(n)) },
		Sent:     func(n int) { m.BytesOut.Add(float64(n)) },
		Refused:  func(*engine.RequestError) { m.Rejected.WithLabelValues(metrics.RejectEngine).Inc() },
		SlowConsumer: func(sid string, queued int64) {
			m.Dropped.WithLabelValues(metrics.DropSlowConsumer).Inc()
			o.Logger.Warn("disconnecting slow consumer", "sid", sid, "queued_bytes", queued, "limit", cfg.SendBuffer)
		},
	}
	io, err := socketio.New(socketio.Config{
		Engine: ecfg,
		Limits: socketio.Limits{
			MaxDepth: cfg.MaxJSONDepth, MaxEventName: cfg.MaxEventName,
			MaxAttachments: cfg.MaxAttachments, MaxAttachmentBytes: cfg.MaxPayload,
		},
		ConnectTimeout:    cfg.ConnectTimeout,
		AttachmentTimeout: cfg.AttachmentTimeout,
		// A recovered socket keeps the identity its first handshake proved
		// (stored in its data), so auth need not run again.
		Recovery: socketio.Recovery{MaxDisconnection: cfg.RecoveryWindow, SkipAdmit: true},
		Adapter:  o.Adapter,
		// SOCKET_BROADCAST_COALESCE=0 writes every frame at once.
		DirectBroadcasts: cfg.BroadcastCoalesce == 0,
	})
	if err != nil {
		return nil, fmt.Errorf("socket.io server: %w", err)
	}
	s.io = io
	io.SetFallback(func(name string) *socketio.Namespace {
		if n, ok := s.Resolve(name); ok {
			return n.io
		}
		return nil
	})
	return s, nil
}

// Handler serves Engine.IO at the configured path. Origin checks happen in
// front of it (origin.Policy.Gate).
func (s *Server) Handler() http.Handler { return s.io }

// Config returns the configuration the server was built with.
func (s *Server) Config() config.Config { return s.cfg }

// Lookup returns a registered namespace by name ("/chat").
func (s *Server) Lookup(name string) (*Namespace, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.namespaces[name]
	return n, ok
}

// Namespaces lists the registered namespaces in registration order.
func (s *Server) Namespaces() []*Namespace {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*Namespace(nil), s.order...)
}

// Connections is the number of open Engine.IO sessions.
func (s *Server) Connections() int { return s.io.Engine().Count() }

// Sockets is the number of sockets connected to the namespaces on this node.
func (s *Server) Sockets() int {
	total := 0
	for _, n := range s.Namespaces() {
		total += n.io.Count()
	}
	return total
}

// Draining reports whether a drain has begun.
func (s *Server) Draining() bool { return s.draining.Load() }

// Drain refuses new handshakes, waits for in-flight handlers (their acks are
// sent) until ctx ends, then closes every connection so clients reconnect
// elsewhere. Clients see a transport close, which socket.io-client answers
// by reconnecting, and which connection state recovery treats as
// recoverable.
func (s *Server) Drain(ctx context.Context) error {
	s.draining.Store(true)
	var err error
	select {
	case <-s.inflight.idle():
	case <-ctx.Done():
		err = fmt.Errorf("drain: %d handlers still running: %w", s.inflight.count(), ctx.Err())
	}
	s.io.Engine().Close()
	return err
}

// Close stops the server immediately (the namespaces leave the cluster).
func (s *Server) Close() {
	s.draining.Store(true)
	s.io.Close()
}

// inflight counts running handlers; idle's channel is closed whenever the
// count is zero, so a drain can wait for it without polling.
type inflight struct {
	mu   sync.Mutex
	n    int
	zero chan struct{}
}

func (f *inflight) add() {
	f.mu.Lock()
	f.n++
	f.mu.Unlock()
}

func (f *inflight) done() {
	f.mu.Lock()
	f.n--
	if f.n == 0 && f.zero != nil {
		close(f.zero)
		f.zero = nil
	}
	f.mu.Unlock()
}

func (f *inflight) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n
}

func (f *inflight) idle() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n == 0 {
		c := make(chan struct{})
		close(c)
		return c
	}
	if f.zero == nil {
		f.zero = make(chan struct{})
	}
	return f.zero
}
