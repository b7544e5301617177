// Command conformance serves the handlers that the official language-neutral
// protocol test suites drive (socketio/socket.io, docs/engine.io-protocol/
// v4-test-suite and docs/socket.io-protocol/v5-test-suite): the Socket.IO
// side is an application of the public package (sockside), the bare
// Engine.IO side is internal/engine with an echo handler, so the suites and
// this package's tests check the stack the server runs on (with -stack
// core, the Socket.IO side is internal/socketio alone):
//
//	go run ./e2e/conformance -addr localhost:3000
//
// /socket.io/ is a Socket.IO server whose "/" namespace emits "auth" with
// the handshake auth on connection, echoes "message" as "message-back" and
// acks "message-with-ack" with its arguments, and whose "/custom" namespace
// emits "auth" likewise. /engine.io/ is a bare Engine.IO server that echoes
// every message. Both use the suites' short heartbeat (300 ms interval,
// 200 ms timeout) so the heartbeat cases finish quickly.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/rs/cors"

	"github.com/sockside/sockside"
	"github.com/sockside/sockside/config"
	"github.com/sockside/sockside/internal/engine"
)

// The values the suites assert in the handshake and time their heartbeat
// cases against.
const (
	pingInterval   = 300 * time.Millisecond
	pingTimeout    = 200 * time.Millisecond
	maxPayload     = 1_000_000
	connectTimeout = 1000 * time.Millisecond
)

// shutdownTimeout bounds how long in-flight requests may delay exit.
const shutdownTimeout = 5 * time.Second

func main() {
	// The suites hard-code http://localhost:3000.
	addr := flag.String("addr", "localhost:3000", "listen address (HOST:PORT)")
	stack := flag.String("stack", "app", "what serves /socket.io/: app (the public package, as the server runs) or core (internal/socketio alone)")
	flag.Parse()
	if err := run(*addr, *stack); err != nil {
		fmt.Fprintln(os.Stderr, "conformance:", err)
		os.Exit(1)
	}
}

// handlerSet is a fixture on one core.
type handlerSet interface {
	http.Handler
	Close()
}

func run(addr, stack string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var f handlerSet
	var err error
	switch stack {
	case "app":
		f, err = newFixture(nil, nil)
	case "core":
		f, err = newCoreFixture()
	default:
		return fmt.Errorf("-stack %q: app or core", stack)
	}
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		f.Close()
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: f, ReadHeaderTimeout: 10 * time.Second}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	slog.Info("conformance fixture listening", "url", "http://"+ln.Addr().String(),
		"socketio", "/socket.io/", "engineio", "/engine.io/", "stack", stack)

	select {
	case err := <-serveErr:
		f.Close()
		return fmt.Errorf("serve %s: %w", addr, err)
	case <-ctx.Done():
	}
	// Sessions first: that answers parked polling GETs and ends the
	// websockets, which Shutdown would otherwise wait on or not see at all
	// (hijacked connections).
	f.Close()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	if err := <-serveErr; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve %s: %w", addr, err)
	}
	return nil
}

// fixture is the handler set: the Socket.IO server at /socket.io/ and the
// bare Engine.IO server at /engine.io/.
type fixture struct {
	api *sockside.Server
	eio *engine.Server
	mux *http.ServeMux
}

// newFixture builds the handler set. For the white-box tests: watch, when
// set, also hears the bare Engine.IO server's sessions, and left the
// Socket.IO sockets' disconnects.
func newFixture(watch engine.Handler, left func(nsp, sid, reason string)) (*fixture, error) {
	api, err := newSocketIOServer(left)
	if err != nil {
		return nil, err
	}
	eio, err := newEngineIOServer(watch)
	if err != nil {
		return nil, err
	}
	f := &fixture{api: api, eio: eio, mux: http.NewServeMux()}
	f.mux.Handle("/socket.io/", f.api)
	// The suites also run from a browser page on another origin.
	f.mux.Handle("/engine.io/", cors.AllowAll().Handler(f.eio))
	return f, nil
}

func (f *fixture) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mux.ServeHTTP(w, r)
}

// Close ends every session of both servers, which also stops their
// heartbeat timers.
func (f *fixture) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := f.api.Shutdown(ctx); err != nil {
		slog.Error("socket.io shutdown", "err", err)
	}
	f.eio.Close()
}

// newSocketIOServer is the suites' Socket.IO application: "/" emits "auth"
// with the handshake auth on connection, echoes "message" as
// "message-back" and acks "message-with-ack" with its arguments; "/custom"
// emits "auth" likewise.
func newSocketIOServer(left func(nsp, sid, reason string)) (*sockside.Server, error) {
	cfg := config.Default()
	cfg.PingInterval = pingInterval
	cfg.PingTimeout = pingTimeout
	cfg.MaxPayload = maxPayload
	cfg.ConnectTimeout = connectTimeout
	// The suites also run from a browser page on another origin, open
	// many connections at once and send no recovery offsets.
	cfg.CORSOrigins = []string{"*"}
	cfg.HandshakeRate = 0
	cfg.RateLimit = 0
	cfg.RecoveryWindow = 0
	srv, err := sockside.New(cfg, sockside.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		return nil, fmt.Errorf("socket.io server: %w", err)
	}
	root := srv.Namespace("/")
	root.OnConnect(emitAuth)
	sockside.HandleRaw(root, "message", func(s *sockside.Socket, args []any) ([]any, error) {
		return nil, s.Emit("message-back", args...)
	})
	sockside.HandleRaw(root, "message-with-ack", func(_ *sockside.Socket, args []any) ([]any, error) {
		return args, nil
	})
	srv.Namespace("/custom").OnConnect(emitAuth)
	if left != nil {
		for _, n := range []*sockside.Namespace{root, srv.Namespace("/custom")} {
			n.OnDisconnect(func(s *sockside.Socket, reason string, _ []string) { left(s.Namespace(), s.ID(), reason) })
		}
	}
	return srv, nil
}

// emitAuth sends the handshake auth back. A CONNECT without payload has
// none, where the reference server (and the suites' expectation,
// 42["auth",{}]) has an empty object.
func emitAuth(s *sockside.Socket) {
	auth := s.Handshake().Auth
	if auth == nil {
		auth = map[string]any{}
	}
	_ = s.Emit("auth", auth)
}

// newEngineIOServer is the bare Engine.IO server: it echoes every message,
// binary as binary.
func newEngineIOServer(watch engine.Handler) (*engine.Server, error) {
	cfg := engine.Default()
	cfg.PingInterval, cfg.PingTimeout, cfg.MaxPayload = pingInterval, pingTimeout, maxPayload
	cfg.Logger = slog.New(slog.DiscardHandler)
	eio, err := engine.New(cfg, echo{watch})
	if err != nil {
		return nil, fmt.Errorf("engine.io server: %w", err)
	}
	return eio, nil
}

// echo sends every message back; watch, when set, hears every call too.
type echo struct{ watch engine.Handler }

func (e echo) Open(s *engine.Session) {
	if e.watch != nil {
		e.watch.Open(s)
	}
}

func (e echo) Message(s *engine.Session, data []byte, binary bool) {
	_ = s.Send(engine.Message(data, binary))
	if e.watch != nil {
		e.watch.Message(s, data, binary)
	}
}

func (e echo) Close(s *engine.Session, reason string) {
	if e.watch != nil {
		e.watch.Close(s, reason)
	}
}

func (e echo) Upgrade(s *engine.Session) {
	if u, ok := e.watch.(engine.UpgradeHandler); ok {
		u.Upgrade(s)
	}
}
