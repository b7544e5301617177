package main

import (
	"fmt"
	"log/slog"
	"net/http"

	"github.com/rs/cors"

	"github.com/sockside/sockside/internal/engine"
	"github.com/sockside/sockside/internal/socketio"
)

// coreFixture is the suites' handler set with internal/socketio alone at
// /socket.io/ (no public package, no sio layer): the same mounts and
// behaviour as fixture, so the suites check the layer on its own too.
type coreFixture struct {
	sio *socketio.Server
	eio *engine.Server
	mux *http.ServeMux
}

func newCoreFixture() (*coreFixture, error) {
	ecfg := engine.Default()
	ecfg.PingInterval, ecfg.PingTimeout, ecfg.MaxPayload = pingInterval, pingTimeout, maxPayload
	ecfg.Logger = slog.New(slog.DiscardHandler)
	sio, err := socketio.New(socketio.Config{
		Engine:         ecfg,
		Limits:         socketio.Limits{MaxDepth: 32, MaxEventName: 256, MaxAttachments: 10, MaxAttachmentBytes: maxPayload},
		ConnectTimeout: connectTimeout,
	})
	if err != nil {
		return nil, fmt.Errorf("socket.io server: %w", err)
	}
	sio.Of("/").SetHooks(socketio.Hooks{
		Connected: emitCoreAuth,
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
	sio.Of("/custom").SetHooks(socketio.Hooks{Connected: emitCoreAuth})
	eio, err := newEngineIOServer(nil)
	if err != nil {
		sio.Close()
		return nil, err
	}
	f := &coreFixture{sio: sio, eio: eio, mux: http.NewServeMux()}
	// The suites also run from a browser page on another origin.
	allow := cors.AllowAll()
	f.mux.Handle("/socket.io/", allow.Handler(sio))
	f.mux.Handle("/engine.io/", allow.Handler(eio))
	return f, nil
}

func (f *coreFixture) ServeHTTP(w http.ResponseWriter, r *http.Request) { f.mux.ServeHTTP(w, r) }

func (f *coreFixture) Close() {
	f.sio.Close()
	f.eio.Close()
}

// emitCoreAuth sends the handshake auth back ({} without one, as the suites expect).
func emitCoreAuth(s *socketio.Socket) {
	auth := s.Auth()
	if auth == nil {
		auth = map[string]any{}
	}
	_ = s.Emit("auth", auth)
}
