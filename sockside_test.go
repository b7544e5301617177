package sockside_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sockside/sockside"
	"github.com/sockside/sockside/config"
	"github.com/sockside/sockside/internal/siotest"
)

type testServer struct {
	*sockside.Server
	url  string
	logs *siotest.Logs
}

// newServer builds a server with the default config changed by mutate,
// lets register add namespaces, serves it and stops it with the test.
func newServer(t *testing.T, mutate func(*config.Config), register func(*sockside.Server)) *testServer {
	t.Helper()
	cfg := config.Default()
	cfg.HandshakeRate = 0
	if mutate != nil {
		mutate(&cfg)
	}
	logs := &siotest.Logs{}
	srv, err := sockside.New(cfg, sockside.WithLogger(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	if err != nil {
		t.Fatal(err)
	}
	register(srv)
	web := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		web.Close()
	})
	return &testServer{Server: srv, url: web.URL, logs: logs}
}

// within waits for a value from ch, failing the test after a bound.
func within[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(siotest.Timeout):
		t.Fatalf("no %s within %s", what, siotest.Timeout)
		panic("unreachable")
	}
}

func TestNewRefusesAnInvalidConfig(t *testing.T) {
	cfg := config.Default()
	cfg.PingInterval = 0
	cfg.Path = "socket.io"
	_, err := sockside.New(cfg)
	if err == nil || !strings.Contains(err.Error(), "SOCKET_PING_INTERVAL") || !strings.Contains(err.Error(), "SOCKET_PATH") {
		t.Fatalf("New = %v, want an error naming SOCKET_PING_INTERVAL and SOCKET_PATH", err)
	}
}

func TestNamespaceNamesStartWithASlash(t *testing.T) {
	srv, err := sockside.New(config.Default(), quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = srv.Shutdown(context.Background()) }()
	defer func() {
		if p := recover(); p == nil || !strings.Contains(p.(string), `"chat" must start with /`) {
			t.Fatalf("Namespace(%q) panicked with %v", "chat", p)
		}
	}()
	srv.Namespace("chat")
}

func TestNamespaceIsRegisteredOnce(t *testing.T) {
	srv, err := sockside.New(config.Default(), quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = srv.Shutdown(context.Background()) }()
	a, b := srv.Namespace("/a"), srv.Namespace("/b")
	if srv.Namespace("/a") != a {
		t.Fatal("a second Namespace(/a) made a new namespace")
	}
	if got := srv.Namespaces(); !slices.Equal(got, []*sockside.Namespace{a, b}) {
		t.Fatalf("Namespaces() = %v, want /a then /b", got)
	}
}

func TestUnregisteredNamespacesAreInvalid(t *testing.T) {
	ts := newServer(t, nil, func(srv *sockside.Server) { srv.Namespace("/notes") })
	for _, nsp := range []string{"/", "/chat"} {
		_, err := siotest.Dial(ts.url, nsp, nil)
		var ce *siotest.ConnectError
		if !errors.As(err, &ce) || ce.Message != "Invalid namespace" {
			t.Errorf("connect %s: %v, want connect_error Invalid namespace", nsp, err)
		}
	}
	siotest.Connect(t, ts.url, "/notes", nil)
}

type greeting struct {
	Name string `json:"name"`
}

type greetingAck struct {
	OK   bool   `json:"ok"`
	Text string `json:"text"`
}

func TestHandleAcksTypedResultsAndErrors(t *testing.T) {
	ts := newServer(t, nil, func(srv *sockside.Server) {
		n := srv.Namespace("/")
		sockside.Handle(n, "greet", func(s *sockside.Socket, req greeting) (greetingAck, error) {
			switch req.Name {
			case "":
				return greetingAck{}, sockside.BadRequest("name is required")
			case "secret":
				return greetingAck{}, errors.New("database password is hunter2")
			case "panic":
				panic("handler bug")
			}
			return greetingAck{OK: true, Text: "hello " + req.Name}, nil
		})
	})
	c := siotest.Connect(t, ts.url, "/", nil)
	cases := []struct {
		args []any
		want map[string]any
	}{
		{[]any{greeting{Name: "ada"}}, map[string]any{"ok": true, "text": "hello ada"}},
		{[]any{greeting{}}, map[string]any{"ok": false, "error": "name is required"}},
		{[]any{greeting{Name: "secret"}}, map[string]any{"ok": false, "error": "internal error"}},
		{[]any{greeting{Name: "panic"}}, map[string]any{"ok": false, "error": "internal error"}},
		{[]any{"not an object"}, map[string]any{"ok": false, "error": "invalid payload: payload must be a JSON object"}},
		{[]any{map[string]any{"name": 7}}, map[string]any{"ok": false, "error": `invalid payload: field "name" must be string`}},
		{nil, map[string]any{"ok": false, "error": "missing payload"}},
	}
	for _, tc := range cases {
		got := ask(t, c, "greet", tc.args...)
		if !mapsEqual(got, tc.want) {
			t.Errorf("greet %v: ack %v, want %v", tc.args, got, tc.want)
		}
	}
	if got := ask(t, c, "nope"); !mapsEqual(got, map[string]any{"ok": false, "error": `unknown event "nope"`}) {
		t.Errorf("unknown event: ack %v", got)
	}
	if strings.Contains(ts.logs.String(), "hunter2") == false {
		t.Error("the handler's internal error was not logged")
	}
	if !strings.Contains(ts.logs.String(), "handler panicked") {
		t.Error("the panic was not logged")
	}
}

func mapsEqual(a, b map[string]any) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestHandleRawTakesAndAcksAnyArguments(t *testing.T) {
	ts := newServer(t, nil, func(srv *sockside.Server) {
		sockside.HandleRaw(srv.Namespace("/"), "sum", func(_ *sockside.Socket, args []any) ([]any, error) {
			var total float64
			for _, a := range args {
				n, ok := a.(float64)
				if !ok {
					return nil, sockside.BadRequest("%v is not a number", a)
				}
				total += n
			}
			return []any{total, len(args)}, nil
		})
	})
	c := siotest.Connect(t, ts.url, "/", nil)
	var total float64
	if err := c.Call(&total, "sum", 1, 2, 3.5); err != nil || total != 6.5 {
		t.Fatalf("sum = %v, %v; want 6.5", total, err)
	}
	if got := ask(t, c, "sum", 1, "x"); !mapsEqual(got, map[string]any{"ok": false, "error": "x is not a number"}) {
		t.Fatalf("sum(1, x) acked %v", got)
	}
}

func TestSocketIdentityAndHandshake(t *testing.T) {
	got := make(chan map[string]any, 1)
	ts := newServer(t, nil, func(srv *sockside.Server) {
		n := srv.Namespace("/me")
		n.OnConnect(func(s *sockside.Socket) {
			hs := s.Handshake()
			got <- map[string]any{
				"id": s.ID(), "nsp": s.Namespace(), "user": s.User().Display(), "transport": s.Transport(),
				"recovered": s.Recovered(), "connected": s.Connected(), "auth": hs.Auth["name"],
				"query": hs.Query.Get("EIO"), "address": hs.Address != "", "recent": time.Since(hs.Time) < time.Minute,
				"ua": hs.Headers.Get("User-Agent") != "",
			}
		})
	})
	c := siotest.Connect(t, ts.url, "/me", map[string]any{"name": "ada"})
	want := map[string]any{
		"id": c.SID, "nsp": "/me", "user": "ada", "transport": "websocket", "recovered": false, "connected": true,
		"auth": "ada", "query": "4", "address": true, "recent": true, "ua": true,
	}
	if g := within(t, got, "connect hook"); !mapsEqual(g, want) {
		t.Fatalf("socket seen as %v, want %v", g, want)
	}
}

func TestRoomsAndEmitters(t *testing.T) {
	type note struct {
		Text string `json:"text"`
	}
	var (
		mu      sync.Mutex
		sockets = map[string]*sockside.Socket{}
	)
	var n *sockside.Namespace
	var notes sockside.Emitter[note]
	ts := newServer(t, nil, func(srv *sockside.Server) {
		n = srv.Namespace("/rooms")
		notes = sockside.Emits[note](n, "note")
		n.OnConnect(func(s *sockside.Socket) {
			mu.Lock()
			sockets[s.ID()] = s
			mu.Unlock()
		})
		sockside.Handle(n, "join", func(s *sockside.Socket, req struct {
			Room string `json:"room"`
		}) (map[string]any, error) {
			s.Join(req.Room)
			members, err := n.Members(req.Room)
			return map[string]any{"rooms": s.Rooms(), "in": s.In(req.Room), "members": members}, err
		})
		sockside.Handle(n, "say", func(s *sockside.Socket, req note) (struct{}, error) {
			notes.ToRoomExcept(s, "red", req)
			return struct{}{}, nil
		})
	})
	red1, red2, blue := siotest.Connect(t, ts.url, "/rooms", nil), siotest.Connect(t, ts.url, "/rooms", nil), siotest.Connect(t, ts.url, "/rooms", nil)
	if ack := ask(t, red1, "join", map[string]string{"room": "red"}); ack["members"] != 1.0 || ack["in"] != true {
		t.Fatalf("join red: %v", ack)
	}
	if ack := ask(t, red2, "join", map[string]string{"room": "red"}); ack["members"] != 2.0 {
		t.Fatalf("second join red: %v", ack)
	}
	if ack := ask(t, blue, "join", map[string]string{"room": "blue"}); ack["members"] != 1.0 {
		t.Fatalf("join blue: %v", ack)
	}

	// From outside any handler: to a room, to one socket, to everyone.
	notes.ToRoom("red", note{"to red"})
	mu.Lock()
	blueSocket := sockets[blue.SID]
	mu.Unlock()
	notes.ToSocket(blueSocket, note{"to blue alone"})
	if err := n.Emit("note", note{"to all"}); err != nil {
		t.Fatal(err)
	}
	if err := n.To("blue").Emit("note", note{"raw to blue"}); err != nil {
		t.Fatal(err)
	}
	if err := n.To("red", blue.SID).Except(red1.SID).Emit("note", note{"to red and blue but red1"}); err != nil {
		t.Fatal(err)
	}
	if err := n.Except(red1.SID).Emit("note", note{"all but red1"}); err != nil {
		t.Fatal(err)
	}
	if err := n.To().Emit("note", note{"nowhere"}); err == nil {
		t.Fatal("To() with no room did not fail")
	}
	if err := blueSocket.Emit("note", note{"socket.Emit"}); err != nil {
		t.Fatal(err)
	}
	ask(t, red1, "say", note{"red1 says"}) // red2 only

	expect := func(c *siotest.Client, who string, texts ...string) {
		t.Helper()
		for _, text := range texts {
			var got note
			if err := c.Next("note", &got); err != nil || got.Text != text {
				t.Fatalf("%s: note %q, %v; want %q", who, got.Text, err, text)
			}
		}
	}
	expect(red1, "red1", "to red", "to all")
	expect(red2, "red2", "to red", "to all", "to red and blue but red1", "all but red1", "red1 says")
	expect(blue, "blue", "to blue alone", "to all", "raw to blue", "to red and blue but red1", "all but red1", "socket.Emit")
	// Nothing else arrived: a marker sent last to everyone is the next note.
	if err := n.Emit("note", note{"end"}); err != nil {
		t.Fatal(err)
	}
	expect(red1, "red1", "end")
	expect(blue, "blue", "end")
}

func TestMiddlewareSetsTheUserOrRefuses(t *testing.T) {
	ts := newServer(t, nil, func(srv *sockside.Server) {
		n := srv.Namespace("/private")
		n.Use(func(r *sockside.ConnectRequest) error {
			token, _ := r.Handshake.Auth["token"].(string)
			switch token {
			case "":
				return &sockside.ConnectError{Message: "login required", Data: map[string]any{"code": 401}}
			case "broken":
				return errors.New("session store down")
			case "panic":
				panic("middleware bug")
			}
			r.User = sockside.User{ID: "u-" + token, Name: strings.ToUpper(token)}
			return nil
		})
		n.Use(func(r *sockside.ConnectRequest) error {
			if r.User.ID == "u-banned" {
				return &sockside.ConnectError{Message: "banned"}
			}
			return nil
		})
		sockside.Handle(n, "whoami", func(s *sockside.Socket, _ struct{}) (sockside.User, error) { return s.User(), nil })
	})

	var ce *siotest.ConnectError
	if _, err := siotest.Dial(ts.url, "/private", nil); !errors.As(err, &ce) || ce.Message != "login required" || string(ce.Data) != `{"code":401}` {
		t.Fatalf("no token: %v (data %s), want login required with its data", err, dataOf(ce))
	}
	for token, want := range map[string]string{"broken": "internal error", "panic": "internal error", "banned": "banned"} {
		if _, err := siotest.Dial(ts.url, "/private", map[string]string{"token": token}); !errors.As(err, &ce) || ce.Message != want {
			t.Errorf("token %s: %v, want connect_error %q", token, err, want)
		}
	}
	c := siotest.Connect(t, ts.url, "/private", map[string]string{"token": "ada"})
	if got := ask(t, c, "whoami"); got["id"] != "u-ada" || got["name"] != "ADA" {
		t.Fatalf("whoami = %v, want the middleware's user", got)
	}
	if !strings.Contains(ts.logs.String(), "session store down") {
		t.Error("the middleware's internal error was not logged")
	}
}

func dataOf(ce *siotest.ConnectError) string {
	if ce == nil {
		return ""
	}
	return string(ce.Data)
}

func TestDisconnectHookAndServerDisconnect(t *testing.T) {
	type gone struct {
		reason string
		rooms  []string
	}
	left := make(chan gone, 2)
	ts := newServer(t, nil, func(srv *sockside.Server) {
		n := srv.Namespace("/")
		n.OnDisconnect(func(s *sockside.Socket, reason string, rooms []string) {
			left <- gone{reason, rooms}
		})
		sockside.Handle(n, "join", func(s *sockside.Socket, _ struct{}) (struct{}, error) {
			s.Join("b", "a")
			return struct{}{}, nil
		})
		sockside.Handle(n, "kick-me", func(s *sockside.Socket, _ struct{}) (string, error) {
			s.Disconnect(sockside.Disconnect{Code: 4001, Reason: "bye"})
			return "acked before the disconnect", nil
		})
	})
	c := siotest.Connect(t, ts.url, "/", nil)
	ask(t, c, "join")
	_ = c.Close()
	if g := within(t, left, "disconnect hook"); g.reason != "transport close" || !slices.Equal(slices.Sorted(slices.Values(g.rooms)), []string{"a", "b"}) {
		t.Fatalf("disconnect hook got %+v, want transport close in rooms a and b", g)
	}

	k := siotest.Connect(t, ts.url, "/", nil)
	var ack string
	if err := k.Call(&ack, "kick-me"); err != nil || ack != "acked before the disconnect" {
		t.Fatalf("kick-me ack %q, %v", ack, err)
	}
	var d sockside.Disconnect
	if err := k.Next(sockside.DisconnectEvent, &d); err != nil || d != (sockside.Disconnect{Code: 4001, Reason: "bye"}) {
		t.Fatalf("disconnect-reason %+v, %v", d, err)
	}
	if g := within(t, left, "disconnect hook after a kick"); g.reason != "server namespace disconnect" {
		t.Fatalf("kicked socket left with %q", g.reason)
	}
}

func TestDeclaredEvents(t *testing.T) {
	srv, err := sockside.New(config.Default(), quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = srv.Shutdown(context.Background()) }()
	n := srv.Namespace("/x")
	sockside.Handle(n, "ask", func(*sockside.Socket, greeting) (greetingAck, error) { return greetingAck{}, nil })
	sockside.HandleRaw(n, "raw", func(*sockside.Socket, []any) ([]any, error) { return nil, nil })
	sockside.Emits[greeting](n, "told")
	var names []string
	for _, e := range n.ClientEvents() {
		names = append(names, e.Name)
	}
	if !slices.Equal(names, []string{"ask", "raw"}) || n.ClientEvents()[0].Ack.Name() != "greetingAck" || n.ClientEvents()[1].Payload != nil {
		t.Fatalf("client events %+v", n.ClientEvents())
	}
	server := n.ServerEvents()
	if last := server[len(server)-1]; last.Name != "told" || last.Payload.Name() != "greeting" {
		t.Fatalf("server events %+v", server)
	}
}

func TestHandleAnyAndDataAndTheHandlerQueue(t *testing.T) {
	release := make(chan struct{})
	started := make(chan string, 4)
	ts := newServer(t, nil, func(srv *sockside.Server) {
		n := srv.Namespace("/any")
		n.SetHandlerQueue(2)
		n.Use(func(r *sockside.ConnectRequest) error {
			r.Data = map[string]any{"plan": "free"}
			return nil
		})
		sockside.Handle(n, "known", func(s *sockside.Socket, _ struct{}) (string, error) { return "known", nil })
		sockside.HandleAny(n, func(s *sockside.Socket, e sockside.Event) ([]any, error) {
			args := e.Args
			switch e.Name {
			case "set":
				s.SetData(args[0])
				return []any{"set"}, nil
			case "get":
				return []any{s.Data()}, nil
			case "slow":
				started <- e.Name
				select {
				case <-release:
				case <-time.After(siotest.Timeout):
				}
				return []any{"slow done"}, nil
			}
			return []any{e.Name, args, e.WantsAck}, nil
		})
	})
	c := siotest.Connect(t, ts.url, "/any", nil)
	var got any
	if err := c.Call(&got, "known"); err != nil || got != "known" {
		t.Fatalf("known = %v, %v", got, err)
	}
	if err := c.Call(&got, "whatever", 1, "two"); err != nil || fmt.Sprint(got) != "whatever" {
		t.Fatalf("whatever = %v, %v", got, err)
	}
	if err := c.Call(&got, "get"); err != nil || fmt.Sprint(got) != "map[plan:free]" {
		t.Fatalf("data from the middleware = %v, %v", got, err)
	}
	if err := c.Call(&got, "set", map[string]any{"plan": "pro"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Call(&got, "get"); err != nil || fmt.Sprint(got) != "map[plan:pro]" {
		t.Fatalf("data after SetData = %v, %v", got, err)
	}

	// One slow event runs, two wait, the fourth is refused at once.
	if err := c.Emit("slow"); err != nil {
		t.Fatal(err)
	}
	within(t, started, "the first slow event")
	for range 2 {
		if err := c.Emit("slow"); err != nil {
			t.Fatal(err)
		}
	}
	if ack := ask(t, c, "slow"); !mapsEqual(ack, map[string]any{"ok": false, "error": "too many pending events"}) {
		t.Fatalf("fourth slow event acked %v", ack)
	}
	close(release)
	within(t, started, "the second slow event")
	within(t, started, "the third slow event")
	if err := c.Call(&got, "get"); err != nil || fmt.Sprint(got) != "map[plan:pro]" {
		t.Fatalf("after the queue drained: %v, %v", got, err)
	}
}

func TestServeUnregistered(t *testing.T) {
	var setups sync.Map
	ts := newServer(t, nil, func(srv *sockside.Server) {
		sockside.Handle(srv.Namespace("/go"), "who", func(*sockside.Socket, struct{}) (string, error) { return "go", nil })
		srv.ServeUnregistered(func(name string) bool { return name == "/" || strings.HasPrefix(name, "/room-") }, func(n *sockside.Namespace) {
			if _, again := setups.LoadOrStore(n.Name(), true); again {
				t.Errorf("%s set up twice", n.Name())
			}
			sockside.Handle(n, "who", func(s *sockside.Socket, _ struct{}) (string, error) { return "fallback " + s.Namespace(), nil })
		})
	})
	if _, ok := ts.Lookup("/"); !ok {
		t.Fatal(`"/" was not taken at once`)
	}
	for nsp, want := range map[string]string{"/go": "go", "/": "fallback /", "/room-1": "fallback /room-1"} {
		for range 2 { // the second connect finds the namespace created
			c := siotest.Connect(t, ts.url, nsp, nil)
			var got string
			if err := c.Call(&got, "who"); err != nil || got != want {
				t.Errorf("%s: who = %q, %v; want %q", nsp, got, err, want)
			}
		}
	}
	for _, nsp := range []string{"/other", "/room-" + strings.Repeat("x", 200)} {
		_, err := siotest.Dial(ts.url, nsp, nil)
		var ce *siotest.ConnectError
		if !errors.As(err, &ce) || ce.Message != "Invalid namespace" {
			t.Errorf("%.20s...: %v, want Invalid namespace", nsp, err)
		}
	}
	if _, ok := ts.Lookup("/room-1"); !ok {
		t.Error("/room-1 is not registered after its first connect")
	}
	// Lookup creates an accepted name nobody connected to yet (an emit to it
	// must reach other nodes), and refuses what accept refuses.
	n, ok := ts.Lookup("/room-2")
	if !ok || n.Name() != "/room-2" {
		t.Fatalf("Lookup(/room-2) = %v, %v before any connect", n, ok)
	}
	if _, ok := ts.Lookup("/other"); ok {
		t.Error("Lookup(/other) created a namespace accept refuses")
	}
	c := siotest.Connect(t, ts.url, "/room-2", nil)
	var got string
	if err := c.Call(&got, "who"); err != nil || got != "fallback /room-2" {
		t.Errorf("/room-2 after Lookup: who = %q, %v", got, err)
	}
}

// ask is siotest.Ask with the ack type these tests use.
func ask(t *testing.T, c *siotest.Client, event string, args ...any) map[string]any {
	t.Helper()
	return siotest.Ask[map[string]any](t, c, event, args...)
}
