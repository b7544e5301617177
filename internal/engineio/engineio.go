// Package engineio holds sockside's Engine.IO transports for the engine of
// github.com/zishang520/socket.io/servers/engine/v3 v3.0.5, registered
// through its transport option without forking the library.
//
// The websocket transport is our own (see websocketTransport): it keeps the
// library's transport base and the engine's upgrade, and owns the write
// path, where the library's was too slow for fan-out. The long-polling
// transport is the library's own with its prototype pointed at a wrapper,
// so the library keeps doing the real work and only the overridden methods
// differ. Two routes reach a wrapper: the calls the engine makes on the
// value a builder returns (OnRequest, Send, Writable, Close), and the calls
// the library routes through the prototype (Close -> DoClose). Handler, in
// front of the engine, closes a race the transports cannot reach on their
// own.
//
// Every workaround is pinned to v3.0.5. The tests in this package run each
// scenario against the library's default transports too and fail once the
// library stops showing the defect: that is the signal to re-check, and
// probably drop, the matching workaround when upgrading.
package engineio

import (
	"time"

	"github.com/zishang520/socket.io/servers/engine/v3"
	"github.com/zishang520/socket.io/servers/engine/v3/transports"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// Transports returns the HTTP long-polling and WebSocket transports with
// the workarounds applied, for SetTransports on the engine options, either
// directly:
//
//	opts := config.DefaultServerOptions()
//	opts.SetTransports(engineio.Transports())
//	eng := engine.NewServer(opts)
//
// or through the Socket.IO options, which embed them:
//
//	opts := socket.DefaultServerOptions()
//	opts.SetTransports(engineio.Transports())
//
// It must be set explicitly: the engine builds its transports from the
// option and never consults transports.Transports(). WebTransport is left
// out, as in the engine's own default. Put Handler in front of the engine
// as well; see there.
func Transports() *types.Set[transports.TransportCtor] {
	return newTransports(defaultPingSettle, Options{})
}

// Options add bounds to the transports of NewTransports.
type Options struct {
	// SendBuffer bounds the bytes queued for one websocket peer (messages
	// handed to the transport and not yet written). A peer that falls
	// further behind, typically one that stopped reading, is cut off as a
	// slow consumer: its connection closes with "transport error"
	// (ErrSlowConsumer) and nobody else waits for it. 0: no bound, the
	// library's behaviour (the engine buffers without limit).
	SendBuffer int64
	// OnSlowConsumer, if set, is told about each peer cut off, with its
	// session id and the bytes queued for it at that moment.
	OnSlowConsumer func(sid string, queued int64)
	// BroadcastCoalesce is the longest a room broadcast's frame waits for
	// others to the same websocket peer, so they share one write; only
	// peers written to less than this ago wait (see holdBack). 0: every
	// frame is written at once.
	BroadcastCoalesce time.Duration
}

// NewTransports is Transports with the bounds of o.
func NewTransports(o Options) *types.Set[transports.TransportCtor] {
	return newTransports(defaultPingSettle, o)
}

func newTransports(pingSettle time.Duration, o Options) *types.Set[transports.TransportCtor] {
	return types.NewSet[transports.TransportCtor](
		&pollingBuilder{pingSettle: pingSettle},
		&websocketBuilder{pingSettle: pingSettle, opts: o},
	)
}

// pollingBuilder keeps the library builder's name and upgrade list; only
// the construction differs.
type pollingBuilder struct {
	transports.PollingBuilder

	pingSettle time.Duration
}

func (b *pollingBuilder) New(ctx *types.HttpContext) transports.Transport {
	// Same choice as the library's PollingBuilder: a "j" query asks for JSONP.
	jsonp := ctx.Query().Has("j")
	var inner transports.Polling
	if jsonp {
		inner = transports.MakeJSONP()
	} else {
		inner = transports.MakePolling()
	}
	p := &pollingTransport{Polling: inner, jsonp: jsonp, pings: pingHold{settle: b.pingSettle}}
	inner.Prototype(p)
	p.Construct(ctx)
	_ = p.On("close", func(...any) { p.expireDeferredClose() })
	return p
}

type websocketBuilder struct {
	transports.WebSocketBuilder

	pingSettle time.Duration
	opts       Options
}

func (b *websocketBuilder) New(ctx *types.HttpContext) transports.Transport {
	return newWebsocketTransport(ctx, b.pingSettle, b.opts)
}

// readier is a transport of ours that may hold a handshake packet.
type readier interface{ ready() }

func (p *pollingTransport) ready()   { p.pings.ready() }
func (w *websocketTransport) ready() { w.pings.ready() }

// Ready lets a handshake packet held on conn go out: the application now
// listens for the client's answer. Call it from the engine's "connection"
// listener after the application's own (Attach does), and from each
// namespace's "connection" listener.
//
// Why (v3.0.5), twice the same race, because Go runs the reader and the
// handshake on different goroutines where Node has one thread:
//   - The engine writes the open packet while it constructs the socket and
//     only then emits "connection", where the Socket.IO layer starts to
//     listen for "data". A client answering at once (socket.io-client sends
//     its namespace CONNECT "40" right away) can be faster: the engine
//     emits the message to no one and the client waits for a CONNECT that
//     never comes.
//   - namespace._doConnect writes the CONNECT before it registers the
//     socket with its client (Client.nsps). socket.io-client emits as soon
//     as it reads the CONNECT; a packet arriving in between finds no socket
//     for its namespace and the library closes the whole connection
//     ("invalid state").
//
// Holding the handshake packet until the application is ready closes both
// windows; the client cannot answer what it has not received.
func Ready(conn engine.Socket) {
	if r, ok := conn.Transport().(readier); ok {
		r.ready()
	}
}

// Attach calls Ready for every new connection of eng. Call it after the
// application has registered its own "connection" listener: listeners run
// in registration order.
func Attach(eng engine.BaseServer) {
	_ = eng.On("connection", func(args ...any) {
		if conn, ok := args[0].(engine.Socket); ok {
			Ready(conn)
		}
	})
}
