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

	"github.com/zishang520/socket.io/parsers/engine/v3/packet"
	"github.com/zishang520/socket.io/servers/engine/v3"
	"github.com/zishang520/socket.io/servers/engine/v3/transports"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"

	"github.com/sockside/sockside/config"
	"github.com/sockside/sockside/internal/auth"
	"github.com/sockside/sockside/internal/engineio"
	"github.com/sockside/sockside/internal/metrics"
	"github.com/sockside/sockside/internal/origin"
)

// Options are what New needs besides the configuration.
type Options struct {
	Config  config.Config
	Metrics *metrics.Metrics
	Logger  *slog.Logger
	// Transports replaces the library's transport builders (see
	// internal/engineio, which fixes long-polling defects of v3.0.5).
	Transports *types.Set[transports.TransportCtor]
	// Adapter overrides the in-memory adapter (Redis scale-out).
	Adapter socket.AdapterConstructor
}

// ErrDraining is the handshake refusal while the server shuts down.
var ErrDraining = errors.New("server draining")

// ErrInvalidNamespace refuses a connect to a namespace nobody registered,
// in the library's (and Node's) words.
var ErrInvalidNamespace = errors.New("Invalid namespace")

// Server is the Socket.IO server with the project's namespaces.
type Server struct {
	IO       *socket.Server
	cfg      config.Config
	metrics  *metrics.Metrics
	log      *slog.Logger
	verifier *auth.Verifier
	handler  http.Handler

	draining atomic.Bool
	inflight inflight
	sockets  sync.Map // eventKey -> *Client whose events skip the library's queue (see dispatch)

	mu         sync.Mutex
	namespaces map[string]*Namespace
	order      []*Namespace

	fallback fallback // namespaces nobody registered (SetFallback)
}

// New builds the server; call Namespace to add namespaces before serving.
func New(o Options) *Server {
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

	opts := socket.DefaultServerOptions()
	opts.SetPath(cfg.Path)
	opts.SetPingInterval(cfg.PingInterval)
	opts.SetPingTimeout(cfg.PingTimeout)
	opts.SetMaxHttpBufferSize(cfg.MaxPayload)
	opts.SetConnectTimeout(cfg.ConnectTimeout)
	opts.SetParser(newParser(limitsFrom(cfg.MaxJSONDepth, cfg.MaxEventName, cfg.MaxAttachments, cfg.MaxPayload, cfg.AttachmentTimeout), s.dispatch))
	opts.SetServeClient(false)
	opts.SetCors(origin.NewPolicy(cfg.CORSOrigins).SocketIOCors())
	opts.SetAllowRequest(func(*types.HttpContext) error {
		if s.draining.Load() {
			s.metrics.Rejected.WithLabelValues(metrics.RejectDraining).Inc()
			return ErrDraining
		}
		return nil
	})
	if o.Transports != nil {
		opts.SetTransports(o.Transports)
	}
	if o.Adapter != nil {
		opts.SetAdapter(o.Adapter)
	}
	if cfg.RecoveryWindow > 0 {
		csr := &socket.ConnectionStateRecovery{}
		csr.SetMaxDisconnectionDuration(cfg.RecoveryWindow.Milliseconds())
		// A recovered socket keeps the identity its first handshake proved
		// (stored in its data), so auth need not run again.
		csr.SetSkipMiddlewares(true)
		opts.SetConnectionStateRecovery(csr)
	}

	s.IO = socket.NewServer(nil, opts)
	// The library always serves "/"; until an application registers it,
	// it is as unknown as any other namespace nobody registered.
	s.IO.Of("/", nil).Use(func(_ *socket.Socket, next func(*socket.ExtendedError)) {
		if _, ok := s.Lookup("/"); !ok {
			next(socket.NewExtendedError(ErrInvalidNamespace.Error(), nil))
			return
		}
		next(nil)
	})
	// What IO.ServeHandler does, with the engine bound through
	// engineio.Direct: messages skip the engine's write path when they can,
	// and the decoders learn their connection.
	eopts := socket.DefaultServerOptions()
	eopts.Assign(opts)
	eng := engine.NewServer(eopts)
	s.IO.Bind(engineio.Direct(eng, engineio.DirectOptions{
		Sent: func(n int) { s.metrics.BytesOut.Add(float64(n)) },
		Tag:  true, // for the decoders' dispatch
	}))
	s.handler = eng
	// On the engine itself: only the Socket.IO layer needs the wrapped
	// sockets. After its own "connection" listener (see engineio.Ready).
	s.watchEngine(eng)
	engineio.Attach(eng)
	return s
}

// Handler serves Engine.IO at the configured path. Origin checks happen in
// front of it (origin.Policy.Gate).
func (s *Server) Handler() http.Handler { return s.handler }

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
	s.IO.Engine().Close()
	return err
}

// Close stops the server immediately.
func (s *Server) Close() {
	s.draining.Store(true)
	s.IO.Close(nil)
}

// watchEngine counts message bytes and refused Engine.IO requests. The
// engine emits "packet" for every received packet and "packetCreate" for
// every queued one.
func (s *Server) watchEngine(eng engine.BaseServer) {
	_ = eng.On("connection_error", func(args ...any) {
		if e, ok := args[0].(*types.ErrorMessage); ok && e.Context != nil && e.Context["message"] == ErrDraining.Error() {
			return // counted as draining by AllowRequest
		}
		s.metrics.Rejected.WithLabelValues(metrics.RejectEngine).Inc()
	})
	_ = eng.On("connection", func(args ...any) {
		conn, ok := args[0].(engine.Socket)
		if !ok {
			return
		}
		_ = conn.On("packet", func(a ...any) { s.metrics.BytesIn.Add(messageSize(a)) })
		_ = conn.On("packetCreate", func(a ...any) { s.metrics.BytesOut.Add(messageSize(a)) })
	})
}

func messageSize(args []any) float64 {
	p, ok := args[0].(*packet.Packet)
	if !ok || p.Type != packet.MESSAGE {
		return 0
	}
	if l, ok := p.Data.(interface{ Len() int }); ok {
		return float64(l.Len())
	}
	return 0
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
