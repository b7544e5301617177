package socketio

import (
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/sockside/sockside/internal/engine"
	"github.com/sockside/sockside/internal/siotest"
)

type testServer struct {
	srv *Server
	url string
}

func startServer(t *testing.T, mutate func(*Config)) *testServer {
	t.Helper()
	cfg := Config{Engine: engine.Default(), Limits: testLimits, ConnectTimeout: 2 * time.Second}
	cfg.Engine.Logger = slog.New(slog.DiscardHandler)
	if mutate != nil {
		mutate(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", srv)
	web := httptest.NewServer(mux)
	t.Cleanup(func() {
		srv.Close()
		web.Close()
	})
	return &testServer{srv: srv, url: web.URL}
}

// events records what the hooks saw.
type events struct {
	mu     sync.Mutex
	log    []string
	signal chan struct{}
}

func newEvents() *events { return &events{signal: make(chan struct{}, 1)} }

func (e *events) add(s string) {
	e.mu.Lock()
	e.log = append(e.log, s)
	e.mu.Unlock()
	select {
	case e.signal <- struct{}{}:
	default:
	}
}

func (e *events) await(t *testing.T, want string) {
	t.Helper()
	deadline := time.After(siotest.Timeout)
	for {
		e.mu.Lock()
		for _, got := range e.log {
			if got == want {
				e.mu.Unlock()
				return
			}
		}
		log := append([]string(nil), e.log...)
		e.mu.Unlock()
		select {
		case <-e.signal:
		case <-deadline:
			t.Fatalf("no %q; saw %q", want, log)
		}
	}
}

// echoHooks acks every event with its arguments and records connects and disconnects.
func echoHooks(ev *events) Hooks {
	return Hooks{
		Admit: func(s *Socket) error {
			if a := s.Auth(); a != nil && a["token"] == "bad" {
				return &ConnectError{Message: "unauthorized", Data: map[string]any{"code": 401}}
			}
			return nil
		},
		Connected: func(s *Socket) { ev.add("connect " + s.Namespace().Name()) },
		Event: func(s *Socket, p *Packet, ack func(...any) error) {
			args, err := p.Args()
			if err != nil {
				return
			}
			switch {
			case p.Refused != "":
				if ack != nil {
					_ = ack(map[string]any{"ok": false, "error": p.Refused})
				}
			case p.Event == "join":
				s.Join(args[0].(string))
				_ = ack()
			case p.Event == "shout":
				_ = s.Namespace().Emit(Broadcast{Rooms: []string{args[0].(string)}, Except: []string{s.ID()}}, "heard", args[1])
			case p.Event == "leave-me":
				s.Disconnect(false)
			case p.Event == "kick-me":
				s.DisconnectAfter(200 * time.Millisecond)
			case ack != nil:
				_ = ack(args...)
			}
		},
		Disconnected: func(s *Socket, reason string, rooms []string) {
			ev.add("disconnect " + s.Namespace().Name() + " " + reason + " " + strings.Join(rooms, ","))
		},
	}
}

func TestConnectEventsAndAcks(t *testing.T) {
	ts := startServer(t, nil)
	ev := newEvents()
	ts.srv.Of("/chat").SetHooks(echoHooks(ev))

	c := siotest.Connect(t, ts.url, "/chat", map[string]any{"token": "ok"})
	ev.await(t, "connect /chat")
	var got []any
	if err := c.Call(&got, "echo", []any{1, "two"}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != 1.0 || got[1] != "two" {
		t.Errorf("ack %v", got)
	}
	// Refusals: the middleware's, an unknown namespace, a limit.
	_, err := siotest.Dial(ts.url, "/chat", map[string]any{"token": "bad"})
	var ce *siotest.ConnectError
	if !errors.As(err, &ce) || ce.Message != "unauthorized" || string(ce.Data) != `{"code":401}` {
		t.Errorf("bad token: %v", err)
	}
	if _, err := siotest.Dial(ts.url, "/nowhere", nil); !errors.As(err, &ce) || ce.Message != "Invalid namespace" {
		t.Errorf("unknown namespace: %v", err)
	}
	var refused map[string]any
	if err := c.Call(&refused, strings.Repeat("e", 17)); err != nil || refused["error"] != "event name longer than 16 bytes" {
		t.Errorf("long event name: %v %v", refused, err)
	}
}

func TestRoomsAndBroadcast(t *testing.T) {
	ts := startServer(t, nil)
	ev := newEvents()
	ns := ts.srv.Of("/chat")
	ns.SetHooks(echoHooks(ev))
	a := siotest.Connect(t, ts.url, "/chat", nil)
	b := siotest.Connect(t, ts.url, "/chat", nil)
	c := siotest.Connect(t, ts.url, "/chat", nil)
	for _, cl := range []*siotest.Client{a, b} {
		if err := cl.Call(nil, "join", "lobby"); err != nil {
			t.Fatal(err)
		}
	}
	if got := ns.Members("lobby"); len(got) != 2 {
		t.Fatalf("members %v", got)
	}
	// a shouts to the lobby: b hears it, a (the sender) and c (not in it) do not.
	if err := a.Emit("shout", "lobby", "hi"); err != nil {
		t.Fatal(err)
	}
	var heard string
	if err := b.Next("heard", &heard); err != nil || heard != "hi" {
		t.Fatalf("b: %q %v", heard, err)
	}
	if err := a.NextWithin("heard", nil, 200*time.Millisecond); err == nil {
		t.Error("the sender heard its own shout")
	}
	if err := c.NextWithin("heard", nil, 200*time.Millisecond); err == nil {
		t.Error("c, not in the lobby, heard it")
	}
	// Everyone, from the server.
	if err := ns.Emit(Broadcast{}, "news", "all"); err != nil {
		t.Fatal(err)
	}
	for _, cl := range []*siotest.Client{a, b, c} {
		if err := cl.Next("news", nil); err != nil {
			t.Error(err)
		}
	}
	// A socket that leaves leaves its rooms.
	_ = b.Close()
	ev.await(t, "disconnect /chat transport close lobby")
	if got := ns.Members("lobby"); len(got) != 1 {
		t.Errorf("members after b left: %v", got)
	}
}

func TestServerDisconnectAndReasons(t *testing.T) {
	ts := startServer(t, nil)
	ev := newEvents()
	ts.srv.Of("/").SetHooks(echoHooks(ev))
	ts.srv.Of("/b").SetHooks(echoHooks(ev))
	ws := dialRaw(t, ts.url)
	ws.send("40")
	ws.expect("40{\"sid\":")
	ws.send("40/b,")
	ws.expect("40/b,{\"sid\":")
	// The server takes the socket out of "/b": a DISCONNECT for it; "/" stays.
	ws.send("42/b,[\"leave-me\"]")
	ws.expect("41/b,")
	ev.await(t, "disconnect /b server namespace disconnect ")
	ws.send("421[\"echo\",1]")
	ws.expect("431[1]")
	// The client's DISCONNECT for "/".
	ws.send("41")
	ev.await(t, "disconnect / client namespace disconnect ")
	// An event for a namespace it is not in ends the connection.
	ws.send("42/b,[\"x\"]")
	ws.expectClosed()
}

func TestBinaryAndServerAcks(t *testing.T) {
	ts := startServer(t, nil)
	ev := newEvents()
	var sock *Socket
	got := make(chan []any, 1)
	h := echoHooks(ev)
	h.Connected = func(s *Socket) { sock = s; ev.add("connect") }
	ts.srv.Of("/").SetHooks(h)
	ws := dialRaw(t, ts.url)
	ws.send("40")
	ws.expect("40{")
	ev.await(t, "connect")
	// A binary event, acked with its arguments: the ack is binary too.
	ws.send(`451-7["echo",{"_placeholder":true,"num":0}]`)
	ws.sendBinary([]byte{1, 2, 3})
	ws.expect(`461-7[{"_placeholder":true,"num":0}]`)
	if b := ws.readBinary(); string(b) != "\x01\x02\x03" {
		t.Errorf("attachment %q", b)
	}
	// The server asks the client; the client answers.
	if err := sock.EmitWithAck(time.Second, func(args []any, err error) { got <- args }, "ask", "q"); err != nil {
		t.Fatal(err)
	}
	ws.expect(`420["ask","q"]`)
	ws.send(`430["a"]`)
	select {
	case args := <-got:
		if len(args) != 1 || args[0] != "a" {
			t.Errorf("ack args %v", args)
		}
	case <-time.After(siotest.Timeout):
		t.Fatal("no ack")
	}
	// Unanswered: the timeout.
	timedOut := make(chan error, 1)
	_ = sock.EmitWithAck(50*time.Millisecond, func(_ []any, err error) { timedOut <- err }, "ask")
	select {
	case err := <-timedOut:
		if !errors.Is(err, ErrAckTimeout) {
			t.Errorf("unanswered: %v", err)
		}
	case <-time.After(siotest.Timeout):
		t.Fatal("no timeout")
	}
}

func TestConnectTimeoutAndAttachmentTimeout(t *testing.T) {
	ts := startServer(t, func(c *Config) {
		c.ConnectTimeout = 100 * time.Millisecond
		c.AttachmentTimeout = 100 * time.Millisecond
	})
	ts.srv.Of("/").SetHooks(echoHooks(newEvents()))
	idle := dialRaw(t, ts.url)
	idle.expectClosed() // never sent a CONNECT
	ws := dialRaw(t, ts.url)
	ws.send("40")
	ws.expect("40{")
	ws.send(`451-["echo",{"_placeholder":true,"num":0}]`) // the attachment never comes
	ws.expectClosed()
}

func TestFallbackNamespaces(t *testing.T) {
	ts := startServer(t, nil)
	ev := newEvents()
	ts.srv.SetFallback(func(name string) *Namespace {
		if !strings.HasPrefix(name, "/room-") {
			return nil
		}
		n := ts.srv.Of(name)
		n.SetHooks(echoHooks(ev))
		return n
	})
	siotest.Connect(t, ts.url, "/room-7", nil)
	ev.await(t, "connect /room-7")
	var ce *siotest.ConnectError
	if _, err := siotest.Dial(ts.url, "/other", nil); !errors.As(err, &ce) || ce.Message != "Invalid namespace" {
		t.Errorf("/other: %v", err)
	}
}

// rawWS is a websocket speaking Engine.IO by hand (answers pings).
type rawWS struct {
	t *testing.T
	c *websocket.Conn
}

func dialRaw(t *testing.T, base string) *rawWS {
	t.Helper()
	c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+"/socket.io/?EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	w := &rawWS{t: t, c: c}
	w.expect("0{")
	return w
}

func (w *rawWS) send(s string) {
	w.t.Helper()
	if err := w.c.WriteMessage(websocket.TextMessage, []byte(s)); err != nil {
		w.t.Fatal(err)
	}
}

func (w *rawWS) sendBinary(b []byte) {
	w.t.Helper()
	if err := w.c.WriteMessage(websocket.BinaryMessage, b); err != nil {
		w.t.Fatal(err)
	}
}

// expect reads the next text message that is not a ping; it must start
// with prefix (Engine.IO and Socket.IO types included: "40{" is a CONNECT).
// It returns the message.
func (w *rawWS) expect(prefix string) string {
	w.t.Helper()
	for {
		_ = w.c.SetReadDeadline(time.Now().Add(siotest.Timeout))
		mt, b, err := w.c.ReadMessage()
		if err != nil {
			w.t.Fatalf("want %q: %v", prefix, err)
		}
		s := string(b)
		if mt == websocket.TextMessage && s == "2" {
			_ = w.c.WriteMessage(websocket.TextMessage, []byte("3"))
			continue
		}
		if mt != websocket.TextMessage || !strings.HasPrefix(s, prefix) {
			w.t.Fatalf("got %d %q, want %q...", mt, b, prefix)
		}
		return s
	}
}

func (w *rawWS) readBinary() []byte {
	w.t.Helper()
	_ = w.c.SetReadDeadline(time.Now().Add(siotest.Timeout))
	mt, b, err := w.c.ReadMessage()
	if err != nil || mt != websocket.BinaryMessage {
		w.t.Fatalf("want binary: %d %q %v", mt, b, err)
	}
	return b
}

func (w *rawWS) expectClosed() {
	w.t.Helper()
	for {
		_ = w.c.SetReadDeadline(time.Now().Add(siotest.Timeout))
		if _, _, err := w.c.ReadMessage(); err != nil {
			if ne, ok := err.(interface{ Timeout() bool }); ok && ne.Timeout() {
				w.t.Fatal("the connection stayed open")
			}
			return
		}
	}
}

func TestDisconnectAfterKeepsTheSocketForItsGrace(t *testing.T) {
	ts := startServer(t, nil)
	ev := newEvents()
	ns := ts.srv.Of("/chat")
	ns.SetHooks(echoHooks(ev))
	ws := dialRaw(t, ts.url)
	ws.send("40/chat,")
	ws.expect("40/chat,{")
	ws.send(`42/chat,1["join","lobby"]`)
	ws.expect("43/chat,1[]")
	if n, err := ns.CountSockets(t.Context(), Broadcast{Rooms: []string{"lobby"}}); err != nil || n != 1 {
		t.Fatalf("count %d %v", n, err)
	}
	ws.send(`42/chat,["kick-me"]`)
	ws.expect("41/chat,")
	// Sent before it saw the DISCONNECT: still handled, the connection stays.
	ws.send(`42/chat,2["echo",1]`)
	ws.expect("43/chat,2[1]")
	ev.await(t, "disconnect /chat server namespace disconnect lobby")
	if n, _ := ns.CountSockets(t.Context(), Broadcast{}); n != 0 {
		t.Errorf("%d sockets after the grace", n)
	}
	ws.send(`42/chat,["late"]`) // now it is not in the namespace: the connection ends
	ws.expectClosed()
}

// The client learns it is connected only after the Connected hook ran: its
// joins are done by then, and what the socket was sent meanwhile follows
// the CONNECT.
func TestConnectAnswerAfterTheConnectedHook(t *testing.T) {
	ts := startServer(t, nil)
	ns := ts.srv.Of("/chat")
	ns.SetHooks(Hooks{Connected: func(s *Socket) {
		s.Join("joined")
		_ = s.Emit("hello")
		_ = ns.Emit(Broadcast{Rooms: []string{s.ID()}}, "early")
	}})
	for range 20 {
		ws := dialRaw(t, ts.url)
		ws.send("40/chat,")
		sid, _ := connectPayload(t, ws.expect("40/chat,{"), "40/chat,")
		if !slices.Contains(ns.Members("joined"), sid) {
			t.Fatal("CONNECT answered before the hook's join")
		}
		ws.expect(`42/chat,["hello"]`)
		ws.expect(`42/chat,["early"]`)
		_ = ws.c.Close()
	}
}
