package main

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sockside/sockside/internal/engine"
	"github.com/sockside/sockside/internal/socketio"
)

// serveOwnCore is the -serve-own mode: the own core (internal/engine and
// internal/socketio, not yet behind the public package) with the "/" echo
// and "/chat" join/leave/message semantics of bench/node/server.js, so the
// same generator measures where the own core stands before the switch.
// Environment as for Node: HOST, PORT, PING_INTERVAL_MS, PING_TIMEOUT_MS;
// prints "listening HOST:PORT".
func serveOwnCore() error {
	ms := func(name string, def time.Duration) time.Duration {
		if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
			return time.Duration(v) * time.Millisecond
		}
		return def
	}
	ecfg := engine.Default()
	ecfg.PingInterval, ecfg.PingTimeout = ms("PING_INTERVAL_MS", 25*time.Second), ms("PING_TIMEOUT_MS", 20*time.Second)
	ecfg.Logger = slog.New(slog.DiscardHandler)
	srv, err := socketio.New(socketio.Config{Engine: ecfg, Limits: socketio.Limits{MaxDepth: 32, MaxEventName: 256, MaxAttachments: 10, MaxAttachmentBytes: ecfg.MaxPayload}})
	if err != nil {
		return err
	}
	srv.Of("/").SetHooks(socketio.Hooks{Event: func(_ *socketio.Socket, p *socketio.Packet, ack func(...any) error) {
		if p.Event == "echo" && ack != nil {
			args, _ := p.Args()
			_ = ack(args...)
		}
	}})
	chat := srv.Of("/chat")
	node := strconv.FormatInt(time.Now().UnixMilli(), 36)
	var seq atomic.Int64
	key := func(room string) string { return "chat:" + room }
	members := func(room string) int { return len(chat.Members(key(room))) }
	fail := func(ack func(...any) error, msg string) {
		if ack != nil {
			_ = ack(map[string]any{"ok": false, "error": msg})
		}
	}
	presence := func(s *socketio.Socket, room, event string, except []string, count int) {
		_ = chat.Emit(socketio.Broadcast{Rooms: []string{key(room)}, Except: except}, "presence",
			map[string]any{"room": room, "id": s.ID(), "user": s.ID(), "event": event, "members": count})
	}
	chat.SetHooks(socketio.Hooks{
		Event: func(s *socketio.Socket, p *socketio.Packet, ack func(...any) error) {
			args, err := p.Args()
			if err != nil || len(args) == 0 {
				fail(ack, "payload must be an object")
				return
			}
			req, _ := args[0].(map[string]any)
			room, _ := req["room"].(string)
			if len(room) < 1 || len(room) > 64 {
				fail(ack, "room must be 1-64 characters")
				return
			}
			switch p.Event {
			case "join":
				already := s.In(key(room))
				s.Join(key(room))
				if !already {
					presence(s, room, "join", nil, members(room))
				}
				if ack != nil {
					_ = ack(map[string]any{"ok": true, "room": room, "members": members(room)})
				}
			case "leave":
				if !s.In(key(room)) {
					fail(ack, "join the room first")
					return
				}
				s.Leave(key(room))
				presence(s, room, "leave", nil, members(room))
				if ack != nil {
					_ = ack(map[string]any{"ok": true, "room": room, "members": members(room)})
				}
			case "message":
				text, _ := req["text"].(string)
				if !s.In(key(room)) {
					fail(ack, "join the room first")
					return
				}
				if len(text) < 1 || len(text) > 4096 {
					fail(ack, "text must be 1-4096 characters")
					return
				}
				id := node + "-" + strconv.FormatInt(seq.Add(1), 36)
				_ = chat.Emit(socketio.Broadcast{Rooms: []string{key(room)}}, "message",
					map[string]any{"id": id, "room": room, "from": s.ID(), "text": text, "ts": time.Now().UnixMilli()})
				if ack != nil {
					_ = ack(map[string]any{"ok": true, "id": id})
				}
			}
		},
		Disconnected: func(s *socketio.Socket, _ string, rooms []string) {
			for _, r := range rooms {
				if room, ok := strings.CutPrefix(r, "chat:"); ok {
					presence(s, room, "leave", nil, members(room))
				}
			}
		},
	})
	host, port := os.Getenv("HOST"), os.Getenv("PORT")
	if host == "" {
		host = "127.0.0.1"
	}
	if port == "" {
		port = "0"
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, port))
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", srv)
	mux.Handle("/metrics", promhttp.Handler())   // go_goroutines for the bench
	mux.HandleFunc("/debug/pprof/", pprof.Index) // profiles by hand: go tool pprof http://ADDR/debug/pprof/profile
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	fmt.Printf("listening %s\n", ln.Addr())
	return http.Serve(ln, mux)
}
