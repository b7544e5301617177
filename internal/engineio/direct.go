package engineio

import (
	"io"

	"github.com/zishang520/socket.io/parsers/engine/v3/packet"
	engine "github.com/zishang520/socket.io/servers/engine/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// DirectOptions configure Direct.
type DirectOptions struct {
	// Sent, if set, is told the size of each message that went the direct
	// way (the engine's "packetCreate" does not fire for them).
	Sent func(bytes int)
	// Tag hands every "data" listener of a wrapped socket a Message (the
	// data and the socket) instead of the bare data, so the Socket.IO
	// layer's decoder learns which connection it decodes for. Only for a
	// Socket.IO server whose parser unwraps it (sio's does).
	Tag bool
}

// Message is what the "data" listeners of a socket from Direct get with
// DirectOptions.Tag: the message the engine read, and the connection.
type Message struct {
	Data any
	Conn engine.Socket
}

// Direct returns eng for a Socket.IO server to Bind to: every engine
// socket its "connection" listeners see is wrapped so that a message the
// Socket.IO layer writes goes straight to our websocket transport's queue
// when nothing the engine holds must go first.
//
// Why: every message to every socket went through the engine socket's
// write path (v3.0.5): a cloned options object and a packet, four event
// emits, two buffers and a flush lock per message and socket. Under
// fan-out to a room that was most of the CPU left once our transport owned
// the writes. The engine still decides everything else (handshake, pings,
// upgrades, close) and writes its own packets as before.
//
//	opts := socket.DefaultServerOptions() // with SetTransports(Transports())
//	io := socket.NewServer(nil, opts)
//	eng := engine.NewServer(opts)
//	io.Bind(engineio.Direct(eng, engineio.DirectOptions{}))
//	mux.Handle("/socket.io/", engineio.Handler(eng))
func Direct(eng engine.BaseServer, o DirectOptions) engine.BaseServer {
	return &directEngine{BaseServer: eng, o: o}
}

type directEngine struct {
	engine.BaseServer
	o DirectOptions
}

func (d *directEngine) On(evt types.EventName, listeners ...types.EventListener) error {
	if evt != "connection" {
		return d.BaseServer.On(evt, listeners...)
	}
	wrapped := make([]types.EventListener, len(listeners))
	for i, l := range listeners {
		wrapped[i] = func(args ...any) {
			if conn, ok := args[0].(engine.Socket); ok {
				args = append([]any{newDirectSocket(conn, d.o)}, args[1:]...)
			}
			l(args...)
		}
	}
	return d.BaseServer.On(evt, wrapped...)
}

// directSocket is an engine socket whose Write may bypass the engine.
type directSocket struct {
	engine.Socket
	o DirectOptions
}

func newDirectSocket(conn engine.Socket, o DirectOptions) *directSocket {
	// The engine switches to the websocket and only then flushes what it
	// buffered for long-polling; until our writer has had the engine flush
	// to it, direct writes would overtake that.
	_ = conn.On("upgrade", func(args ...any) {
		if w, ok := args[0].(*websocketTransport); ok {
			w.blocked.Add(1)
		}
	})
	return &directSocket{Socket: conn, o: o}
}

// On tags what "data" listeners get, with DirectOptions.Tag. (The wrapper
// cannot be removed by RemoveListener, which the library calls only once
// the connection is closing.)
func (s *directSocket) On(evt types.EventName, listeners ...types.EventListener) error {
	if evt != "data" || !s.o.Tag {
		return s.Socket.On(evt, listeners...)
	}
	wrapped := make([]types.EventListener, len(listeners))
	for i, l := range listeners {
		wrapped[i] = func(args ...any) {
			switch len(args) {
			case 0:
				l()
			case 1: // what the engine emits: no slice to build per message
				l(Message{Data: args[0], Conn: s})
			default:
				l(append([]any{Message{Data: args[0], Conn: s}}, args[1:]...)...)
			}
		}
	}
	return s.Socket.On(evt, wrapped...)
}

// Write is the engine's Write, or the direct way when cb is nil and the
// socket is on our websocket. The engine's readyState is not consulted
// (on 1,000 sockets per broadcast, every cache line counts): the transport
// refuses once closing, and a message written while the engine waits to
// close is delivered before the close instead of dropped.
func (s *directSocket) Write(data io.Reader, opts *packet.Options, cb engine.SendCallback) engine.Socket {
	if cb == nil {
		if w, ok := s.Socket.Transport().(*websocketTransport); ok {
			if n, ok := w.sendDirect(data, opts); ok {
				if s.o.Sent != nil {
					s.o.Sent(n)
				}
				return s
			}
		}
	}
	s.Socket.Write(data, opts, cb)
	return s
}
