// Package sockside is a Socket.IO v4 server for Go applications, built to
// run on a side port next to a Next.js app (whose rewrite table sends
// /socket.io/ to it, see the nextconfig command) and to be used with the
// official socket.io-client.
//
// A Server comes from a config.Config (every SOCKET_* setting: port, path,
// origins, limits, auth, recovery, Redis scale-out). Applications add
// namespaces to it and declare their events with Go types:
//
//	srv, err := sockside.New(config.Default())
//	notes := srv.Namespace("/notes")
//	added := sockside.Emits[Note](notes, "note:added")
//	sockside.Handle(notes, "note:add", func(s *sockside.Socket, req NoteRequest) (NoteAck, error) { ... })
//	err = srv.Run(ctx)
//
// Every handler runs through one dispatcher that applies the per-socket
// rate limit, counts metrics, keeps a socket's events in the order they
// came, waits for running handlers during a graceful drain and turns
// errors and panics into `{ok: false, error}` acks. The declared types are
// also what the TypeScript event maps are generated from (see
// Namespace.ClientEvents and Namespace.ServerEvents).
//
// Register namespaces, handlers, middleware and hooks before serving; the
// Server does not expect them to change while it runs.
package sockside

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sockside/sockside/config"
	"github.com/sockside/sockside/internal/app"
	"github.com/sockside/sockside/internal/sio"
)

// Server is a Socket.IO server with the HTTP endpoints around it: Engine.IO
// at the configured path (SOCKET_PATH, "/socket.io/"), the emit API
// (POST /api/emit), /healthz, /readyz, /metrics and /api/stats. It is an
// http.Handler; Run and Serve also drain it gracefully.
type Server struct {
	app *app.App
	cfg config.Config
	log *slog.Logger

	start sync.Once
}

func init() {
	app.Of = func(h http.Handler) (*app.App, bool) {
		if s, ok := h.(*Server); ok {
			return s.app, true
		}
		return nil, false
	}
}

// Option changes how New builds a Server.
type Option func(*options)

type options struct {
	logger *slog.Logger
}

// WithLogger sets the logger (default: slog.Default()).
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.logger = l }
}

// New builds a server from cfg, which it validates (config.Default and
// config.FromEnvironment return valid ones; a hand-edited one may not be).
// The server has no namespace until the application registers one.
func New(cfg config.Config, opts ...Option) (*Server, error) {
	o := options{logger: slog.Default()}
	for _, opt := range opts {
		opt(&o)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	a, err := app.New(cfg, o.logger)
	if err != nil {
		return nil, fmt.Errorf("sockside: %w", err)
	}
	return &Server{app: a, cfg: cfg, log: o.logger}, nil
}

// Config is the configuration the server was built with.
func (s *Server) Config() config.Config { return s.cfg }

// Namespace returns the namespace name ("/", "/chat"), registering it the
// first time. Names start with "/".
func (s *Server) Namespace(name string) *Namespace {
	if len(name) == 0 || name[0] != '/' {
		panic(fmt.Sprintf("sockside: namespace %q must start with /", name))
	}
	return public(s.app.SocketIO().NamespaceWith(name, wrap(nil)))
}

// wrap is the setup that gives a new Socket.IO namespace its public
// handle, then runs setup on that.
func wrap(setup func(*Namespace)) func(*sio.Namespace) {
	return func(sn *sio.Namespace) {
		n := newNamespace(sn)
		sn.Ext = n
		if setup != nil {
			setup(n)
		}
	}
}

func public(sn *sio.Namespace) *Namespace { return sn.Ext.(*Namespace) }

// Lookup returns the namespace name if it is registered, or if
// ServeUnregistered serves it (creating it now when no client has asked for
// it yet).
func (s *Server) Lookup(name string) (*Namespace, bool) {
	sn, ok := s.app.SocketIO().Resolve(name)
	if !ok {
		return nil, false
	}
	return public(sn), true
}

// Namespaces lists the registered namespaces in registration order.
func (s *Server) Namespaces() []*Namespace {
	var out []*Namespace
	for _, sn := range s.app.SocketIO().Namespaces() {
		out = append(out, public(sn))
	}
	return out
}

// Metrics is the registry behind /metrics, for the application's own
// collectors.
func (s *Server) Metrics() prometheus.Registerer { return s.app.Metrics().Registry }

// ServeUnregistered serves the namespaces no one registered: when a client
// asks for a namespace that does not exist and accept(name) agrees, it is
// created, set up by setup as a namespace is before serving (handlers,
// middleware, hooks), and the client joins it. Each name is set up once
// and then stays registered; at most 1,000 are created this way, and only
// names of at most 128 bytes. Call it after registering every other
// namespace: "/" exists from the start, so it is taken here and now if
// accept takes it.
func (s *Server) ServeUnregistered(accept func(name string) bool, setup func(*Namespace)) {
	s.app.SocketIO().SetFallback(func(name string) bool {
		return len(name) <= maxUnregisteredName && accept(name)
	}, wrap(setup))
}

// maxUnregisteredName bounds the names ServeUnregistered creates.
const maxUnregisteredName = 128

// ServeHTTP serves every endpoint of the server. An application mounting
// the Server in its own http.Server should call Shutdown before closing
// that server, so that clients are drained.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.start.Do(s.app.Start) // registration is over when requests come
	s.app.Handler().ServeHTTP(w, r)
}

// Serve accepts connections on ln until Shutdown, then returns nil.
func (s *Server) Serve(ln net.Listener) error { return s.app.Serve(ln) }

// Shutdown drains the server: readiness turns 503 and new handshakes are
// refused at once, running handlers finish (their acks are sent) until ctx
// ends, every client is disconnected so that it reconnects elsewhere (and
// recovers its session there, with recovery on), then the HTTP server
// stops.
func (s *Server) Shutdown(ctx context.Context) error { return s.app.Shutdown(ctx) }

// Run listens on SOCKET_HOST:SOCKET_PORT and serves until ctx ends, then
// drains within SOCKET_DRAIN_TIMEOUT. A drain that runs out of time is
// logged, not returned: the process is stopping either way.
func (s *Server) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Addr())
	if err != nil {
		return fmt.Errorf("listening on %s: %w", s.cfg.Addr(), err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	drainCtx, cancel := context.WithTimeout(context.Background(), s.cfg.DrainTimeout)
	defer cancel()
	if err := s.Shutdown(drainCtx); err != nil {
		s.log.Error("drain incomplete", "err", err)
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
