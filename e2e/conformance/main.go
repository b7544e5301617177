// Command conformance serves the handlers that the official language-neutral
// protocol test suites drive (socketio/socket.io, docs/engine.io-protocol/
// v4-test-suite and docs/socket.io-protocol/v5-test-suite): the Socket.IO
// side is an application of the public package (sockside), the bare
// Engine.IO side is built with the project's transports and handler from
// internal/engineio, so the suites and this package's tests check the
// stack the server runs on:
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
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/zishang520/socket.io/servers/engine/v3"
	engineconfig "github.com/zishang520/socket.io/servers/engine/v3/config"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"

	"github.com/sockside/sockside"
	"github.com/sockside/sockside/config"
	"github.com/sockside/sockside/internal/app"
	"github.com/sockside/sockside/internal/engineio"
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
	core := flag.String("core", "library", "the server core: library (today's, on github.com/zishang520/socket.io) or own (internal/engine and internal/socketio)")
	flag.Parse()
	if err := run(*addr, *core); err != nil {
		fmt.Fprintln(os.Stderr, "conformance:", err)
		os.Exit(1)
	}
}

// handlerSet is a fixture on one core.
type handlerSet interface {
	http.Handler
	Close()
}

func run(addr, core string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var f handlerSet
	switch core {
	case "library":
		f = newFixture()
	case "own":
		own, err := newOwnFixture()
		if err != nil {
			return err
		}
		f = own
	default:
		return fmt.Errorf("-core %q: library or own", core)
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
		"socketio", "/socket.io/", "engineio", "/engine.io/", "core", core)

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
	sio *socket.Server // what api runs on, for the white-box tests
	eio engine.Server
	mux *http.ServeMux
}

func newFixture() *fixture {
	f := &fixture{api: newSocketIOServer(), eio: newEngineIOServer(), mux: http.NewServeMux()}
	a, _ := app.Of(f.api)
	f.sio = a.SocketIO().IO
	// After the server's own "connection" listener, so the open packet
	// waits for it: see engineio.Ready. (sockside.New does the same.)
	engineio.Attach(f.eio)
	// engineio.Handler goes with engineio.Transports (see there).
	f.mux.Handle("/socket.io/", f.api)
	f.mux.Handle("/engine.io/", engineio.Handler(f.eio))
	return f
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
func newSocketIOServer() *sockside.Server {
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
		panic("conformance: " + err.Error()) // constants above
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
	return srv
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

func newEngineIOServer() engine.Server {
	opts := engineconfig.DefaultServerOptions()
	opts.SetPingInterval(pingInterval)
	opts.SetPingTimeout(pingTimeout)
	opts.SetMaxHttpBufferSize(maxPayload)
	// Same reason as for Socket.IO: browser runs of the suite.
	opts.SetCors(&types.Cors{Origin: "*"})
	opts.SetTransports(engineio.Transports())

	eio := engine.NewServer(opts)
	_ = eio.On("connection", func(args ...any) {
		s := args[0].(engine.Socket)
		_ = s.On("message", func(args ...any) {
			// The payload keeps its buffer type, so binary stays binary.
			if data, ok := args[0].(io.Reader); ok {
				s.Send(data, nil, nil)
			}
		})
	})
	return eio
}
