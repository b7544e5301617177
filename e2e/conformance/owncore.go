package main

import (
	"log/slog"
	"net/http"

	"github.com/rs/cors"

	"github.com/sockside/sockside/internal/engine"
	"github.com/sockside/sockside/internal/socketio"
)

// ownFixture is the suites' handler set on the own core (internal/engine
// and internal/socketio, which replace the library's servers; see the issue
// of the own core): the same mounts and behaviour as fixture, for the
// official suites to compare both cores.
type ownFixture struct {
	sio *socketio.Server
	eio *engine.Server
	mux *http.ServeMux
}

func newOwnFixture() (*ownFixture, error) {
	ecfg := engine.Default()
	ecfg.PingInterval, ecfg.PingTimeout, ecfg.MaxPayload = pingInterval, pingTimeout, maxPayload
	ecfg.Logger = slog.New(slog.DiscardHandler)
	sio, err := socketio.New(socketio.Config{
		Engine:         ecfg,
		Limits:         socketio.Limits{MaxDepth: 32, MaxEventName: 256, MaxAttachments: 10, MaxAttachmentBytes: maxPayload},
		ConnectTimeout: connectTimeout,
	})
	if err != nil {
		return nil, err
	}
	sio.Of("/").SetHooks(socketio.Hooks{
		Connected: emitOwnAuth,
		Event: func(s *socketio.Socket, p *socketio.Packet, ack func(...any) error) {
			args, err := p.Args()
			if err != nil {
				return
			}
			switch p.Event {
			case "message":
				_ = s.Emit("message-back", args...)
			case "message-with-ack":
				if ack != nil {
					_ = ack(args...)
				}
			}
		},
	})
	sio.Of("/custom").SetHooks(socketio.Hooks{Connected: emitOwnAuth})
	eio, err := engine.New(ecfg, echo{})
	if err != nil {
		sio.Close()
		return nil, err
	}
	f := &ownFixture{sio: sio, eio: eio, mux: http.NewServeMux()}
	// The suites also run from a browser page on another origin.
	allow := cors.AllowAll()
	f.mux.Handle("/socket.io/", allow.Handler(sio))
	f.mux.Handle("/engine.io/", allow.Handler(eio))
	return f, nil
}

func (f *ownFixture) ServeHTTP(w http.ResponseWriter, r *http.Request) { f.mux.ServeHTTP(w, r) }

func (f *ownFixture) Close() {
	f.sio.Close()
	f.eio.Close()
}

// emitOwnAuth sends the handshake auth back ({} without one, as the suites expect).
func emitOwnAuth(s *socketio.Socket) {
	auth := s.Auth()
	if auth == nil {
		auth = map[string]any{}
	}
	_ = s.Emit("auth", auth)
}

// echo is the bare Engine.IO server's handler: every message back as it came.
type echo struct{}

func (echo) Open(*engine.Session)          {}
func (echo) Close(*engine.Session, string) {}
func (echo) Message(s *engine.Session, data []byte, binary bool) {
	_ = s.Send(engine.Message(data, binary))
}
