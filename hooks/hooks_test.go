package hooks_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sockside/sockside"
	"github.com/sockside/sockside/config"
	"github.com/sockside/sockside/hooks"
	"github.com/sockside/sockside/internal/siotest"
)

const secret = "0123456789abcdef0123456789abcdef"

// app is the application behind the server: a real HTTP server that
// verifies every hook request and answers with what the test's handler
// returns for it.
type app struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	answer func(hook string, body map[string]any, r *http.Request) (status int, answer any)
	seen   chan seenHook
}

type seenHook struct {
	hook string
	body map[string]any
	r    *http.Request
}

func newApp(t *testing.T, answer func(hook string, body map[string]any, r *http.Request) (int, any)) *app {
	a := &app{t: t, answer: answer, seen: make(chan seenHook, 64)}
	a.srv = httptest.NewServer(http.HandlerFunc(a.serve))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *app) serve(w http.ResponseWriter, r *http.Request) {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if err := hooks.Verify([]byte(secret), r.Header.Get(hooks.HeaderTimestamp), r.Header.Get(hooks.HeaderSignature), raw, time.Now()); err != nil {
		a.t.Errorf("%s: %v", r.URL.Path, err)
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	if r.Header.Get(hooks.HeaderVersion) != hooks.Version {
		a.t.Errorf("%s: version header %q", r.URL.Path, r.Header.Get(hooks.HeaderVersion))
	}
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		a.t.Errorf("%s: body %s: %v", r.URL.Path, raw, err)
	}
	hook := strings.TrimPrefix(r.URL.Path, "/hooks/")
	a.seen <- seenHook{hook, body, r}
	a.mu.Lock()
	answer := a.answer
	a.mu.Unlock()
	status, ans := answer(hook, body, r)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if s, ok := ans.(string); ok {
		_, _ = io.WriteString(w, s)
		return
	}
	_ = json.NewEncoder(w).Encode(ans)
}

// next returns the next hook request of kind hook the app saw.
func (a *app) next(hook string) seenHook {
	a.t.Helper()
	deadline := time.After(siotest.Timeout)
	for {
		select {
		case s := <-a.seen:
			if s.hook == hook {
				return s
			}
		case <-deadline:
			a.t.Fatalf("no %s hook within %s", hook, siotest.Timeout)
		}
	}
}

// accept answers every connect with ok and every event with an echo ack.
func accept(hook string, body map[string]any, _ *http.Request) (int, any) {
	switch hook {
	case "connect":
		return 200, map[string]any{"ok": true}
	case "event":
		return 200, map[string]any{"ack": []any{map[string]any{"echo": body["args"]}}}
	}
	return 200, map[string]any{}
}

type node struct {
	srv   *sockside.Server
	hooks *hooks.Hooks
	url   string
}

// start serves a sockside server whose namespaces are hooks to appURL,
// with Go code serving /go, mutating the defaults as the test asks.
func start(t *testing.T, appURL string, mutate func(*config.Config, *hooks.Options)) *node {
	t.Helper()
	cfg := config.Default()
	cfg.HandshakeRate = 0
	o := hooks.FromConfig(cfg)
	o.URL, o.Secret = appURL+"/hooks", secret
	o.Logger = slog.New(slog.DiscardHandler)
	if mutate != nil {
		mutate(&cfg, &o)
	}
	srv, err := sockside.New(cfg, sockside.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	sockside.Handle(srv.Namespace("/go"), "ping", func(*sockside.Socket, struct{}) (string, error) { return "pong", nil })
	h, err := hooks.Register(srv, o)
	if err != nil {
		t.Fatal(err)
	}
	web := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		web.Close()
		h.Close()
	})
	return &node{srv: srv, hooks: h, url: web.URL}
}

// metricLine is the line of n's /metrics that starts with name.
func metricLine(t *testing.T, n *node, name string) string {
	t.Helper()
	res, err := http.Get(n.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, name+" ") || strings.HasPrefix(line, name+"{") {
			return line
		}
	}
	t.Fatalf("/metrics has no %s:\n%s", name, body)
	return ""
}

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestConnectForwardsTheHandshakeAndTheCookie(t *testing.T) {
	a := newApp(t, func(hook string, body map[string]any, r *http.Request) (int, any) {
		if hook != "connect" {
			return accept(hook, body, r)
		}
		if c, err := r.Cookie("session"); err != nil || c.Value != "s3cret" {
			return 200, map[string]any{"ok": false, "error": "not signed in", "data": map[string]any{"code": 401}}
		}
		return 200, map[string]any{"ok": true, "user": map[string]any{"id": "u1", "name": "Ada"}, "data": map[string]any{"plan": "pro"}, "join": []string{"team:1"}}
	})
	n := start(t, a.srv.URL, nil)

	_, err := siotest.Dial(n.url, "/notes", nil)
	var ce *siotest.ConnectError
	if !errors.As(err, &ce) || ce.Message != "not signed in" || string(ce.Data) != `{"code":401}` {
		t.Fatalf("without the cookie: %v (%s), want the app's refusal with its data", err, dataOf(ce))
	}
	refused := a.next("connect")
	if refused.body["namespace"] != "/notes" {
		t.Errorf("connect body %v", refused.body)
	}

	c, err := siotest.DialWith(n.url+"", "/notes", map[string]any{"token": "t"}, http.Header{"Cookie": {"session=s3cret; other=1"}, "User-Agent": {"hooks-test"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got := a.next("connect")
	if id, _ := got.body["id"].(string); len(id) != 24 || id == refused.body["id"] {
		t.Errorf("request ids %v and %v, want two different 24-character ids", refused.body["id"], got.body["id"])
	}
	hs := got.body["handshake"].(map[string]any)
	headers := hs["headers"].(map[string]any)
	if got.body["sid"] != c.SID || js(hs["auth"]) != `{"token":"t"}` || hs["query"].(map[string]any)["EIO"] != "4" ||
		headers["user-agent"] != "hooks-test" || headers["cookie"] != nil || hs["address"] == "" || hs["time"].(float64) <= 0 {
		t.Errorf("connect body %s", js(got.body))
	}
	if got.r.Header.Get("Cookie") != "session=s3cret; other=1" {
		t.Errorf("connect request's Cookie %q, want the browser's", got.r.Header.Get("Cookie"))
	}
	// The answer's user, data and rooms are the socket's from the first event on.
	ask(t, c, "hello")
	ev := a.next("event")
	if js(ev.body["user"]) != `{"id":"u1","name":"Ada"}` || js(ev.body["data"]) != `{"plan":"pro"}` || js(ev.body["rooms"]) != `["team:1"]` {
		t.Errorf("event body %s", js(ev.body))
	}
}

func dataOf(ce *siotest.ConnectError) string {
	if ce == nil {
		return ""
	}
	return string(ce.Data)
}

func TestEventRoundTripAppliesTheAnswerInOrder(t *testing.T) {
	a := newApp(t, func(hook string, body map[string]any, r *http.Request) (int, any) {
		if hook != "event" {
			return accept(hook, body, r)
		}
		switch body["event"] {
		case "join":
			return 200, map[string]any{"join": []string{"room:a"}, "ack": []any{"joined"}}
		case "note:add":
			return 200, map[string]any{
				"data": map[string]any{"notes": 1},
				"emit": []any{
					map[string]any{"event": "note:added", "args": []any{body["args"].([]any)[0]}, "to": []string{"room:a"}},
					map[string]any{"event": "count", "args": []any{1}, "except": []string{body["sid"].(string)}},
				},
				"ack": []any{map[string]any{"ok": true}},
			}
		case "leave":
			return 200, map[string]any{"leave": []string{"room:a"}, "ack": []any{"left"}}
		case "bye":
			return 200, map[string]any{"ack": []any{"bye"}, "disconnect": true}
		}
		return 200, map[string]any{"ack": []any{body["ack"]}}
	})
	n := start(t, a.srv.URL, func(_ *config.Config, o *hooks.Options) { o.Namespaces = []string{"/notes"} })
	ada, bob, eve := siotest.Connect(t, n.url, "/notes", nil), siotest.Connect(t, n.url, "/notes", nil), siotest.Connect(t, n.url, "/notes", nil)
	if got := ask(t, ada, "join"); got != "joined" {
		t.Fatalf("join acked %v", got)
	}
	ask(t, bob, "join")
	if got := ask(t, ada, "note:add", map[string]any{"text": "hi"}); js(got) != `{"ok":true}` {
		t.Fatalf("note:add acked %v", got)
	}
	var note, count any
	if err := bob.Next("note:added", &note); err != nil || js(note) != `{"text":"hi"}` {
		t.Fatalf("bob: note:added %v, %v", note, err)
	}
	if err := ada.Next("note:added", &note); err != nil {
		t.Fatalf("ada (in the room): %v", err)
	}
	if err := eve.Next("count", &count); err != nil || count != 1.0 {
		t.Fatalf("eve: count %v, %v", count, err)
	}
	// The answer's data is the socket's for its next events.
	ask(t, ada, "whatever")
	for {
		ev := a.next("event")
		if ev.body["sid"] == ada.SID && ev.body["event"] == "whatever" {
			if js(ev.body["data"]) != `{"notes":1}` || ev.body["ack"] != true {
				t.Fatalf("event after the data change: %s", js(ev.body))
			}
			break
		}
	}
	// An event without an ack says so.
	if err := ada.Emit("fire-and-forget", 1); err != nil {
		t.Fatal(err)
	}
	for ev := a.next("event"); ev.body["event"] != "fire-and-forget"; ev = a.next("event") {
	}
	ask(t, ada, "leave")
	if got := ask(t, ada, "bye"); got != "bye" {
		t.Fatalf("bye acked %v", got)
	}
	var d sockside.Disconnect
	if err := ada.Next(sockside.DisconnectEvent, &d); err != nil || d != hooks.DisconnectByApp {
		t.Fatalf("after bye: %+v, %v", d, err)
	}
	gone := a.next("disconnect")
	if gone.body["sid"] != ada.SID || gone.body["reason"] != "server namespace disconnect" || js(gone.body["rooms"]) != `[]` {
		t.Fatalf("disconnect hook %s", js(gone.body))
	}
}

func TestRelayEventsSkipTheApp(t *testing.T) {
	a := newApp(t, func(hook string, body map[string]any, r *http.Request) (int, any) {
		switch hook {
		case "connect":
			return 200, map[string]any{"ok": true, "join": []string{"doc:1"}, "relay": []string{"typing"}}
		}
		return accept(hook, body, r)
	})
	n := start(t, a.srv.URL, func(cfg *config.Config, _ *hooks.Options) { cfg.RateLimit = 5 })
	ada, bob := siotest.Connect(t, n.url, "/docs", nil), siotest.Connect(t, n.url, "/docs", nil)
	a.next("connect")
	a.next("connect")
	if got := ask(t, ada, "typing", map[string]any{"who": "ada"}); js(got) != `{"ok":true}` {
		t.Fatalf("typing acked %v", got)
	}
	var typing any
	if err := bob.Next("typing", &typing); err != nil || js(typing) != `{"who":"ada"}` {
		t.Fatalf("bob: typing %v, %v", typing, err)
	}
	// The sender does not get its own relay, and the app never saw it: the
	// next event the app sees is the marker.
	ask(t, ada, "marker")
	if ev := a.next("event"); ev.body["event"] != "marker" {
		t.Fatalf("the app saw %v", ev.body["event"])
	}
	// Relays count against the rate limit (5/s, burst 10).
	limited := false
	for range 30 {
		if js(ask(t, ada, "typing", 1)) == `{"error":"rate limited","ok":false}` {
			limited = true
			break
		}
	}
	if !limited {
		t.Fatal("30 relays in a row were never rate limited")
	}
	// The sender never got its own relays: the first one it gets is bob's,
	// sent after all of hers.
	ask(t, bob, "typing", map[string]any{"who": "bob"})
	var first any
	if err := ada.Next("typing", &first); err != nil || js(first) != `{"who":"bob"}` {
		t.Fatalf("ada's first typing %v, %v; want bob's", first, err)
	}
}

func TestAppDownMeansHooksUnavailable(t *testing.T) {
	a := newApp(t, accept)
	n := start(t, a.srv.URL, nil)
	c := siotest.Connect(t, n.url, "/notes", nil)
	a.srv.Close()
	if got := ask(t, c, "note:add", 1); js(got) != `{"error":"hooks unavailable","ok":false}` {
		t.Fatalf("event with the app down acked %v", got)
	}
	_, err := siotest.Dial(n.url, "/notes", nil)
	var ce *siotest.ConnectError
	if !errors.As(err, &ce) || ce.Message != hooks.Unavailable {
		t.Fatalf("connect with the app down: %v", err)
	}
	// Go namespaces are served all the same.
	if got := ask(t, siotest.Connect(t, n.url, "/go", nil), "ping"); got != "pong" {
		t.Fatalf("/go ping = %v", got)
	}
}

func TestBadAnswersMeanHooksUnavailable(t *testing.T) {
	answers := map[string]func() (int, any){
		"status 500":  func() (int, any) { return 500, map[string]any{"ack": []any{"no"}} },
		"not JSON":    func() (int, any) { return 200, "<html>oops</html>" },
		"wrong shape": func() (int, any) { return 200, `{"ack": "not a list"}` },
		"too large":   func() (int, any) { return 200, map[string]any{"ack": []any{strings.Repeat("x", 2048)}} },
	}
	for name, answer := range answers {
		t.Run(name, func(t *testing.T) {
			a := newApp(t, func(hook string, body map[string]any, r *http.Request) (int, any) {
				if hook == "event" {
					return answer()
				}
				return accept(hook, body, r)
			})
			n := start(t, a.srv.URL, func(_ *config.Config, o *hooks.Options) { o.MaxAnswer = 1024 })
			c := siotest.Connect(t, n.url, "/notes", nil)
			if got := ask(t, c, "x"); js(got) != `{"error":"hooks unavailable","ok":false}` {
				t.Fatalf("acked %v", got)
			}
		})
	}
}

func TestSlowAppTimeoutAndInFlightBound(t *testing.T) {
	release := make(chan struct{})
	a := newApp(t, func(hook string, body map[string]any, r *http.Request) (int, any) {
		if hook == "event" && body["event"] == "slow" {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
		return accept(hook, body, r)
	})
	defer close(release)
	n := start(t, a.srv.URL, func(_ *config.Config, o *hooks.Options) {
		o.Timeout = 300 * time.Millisecond
		o.MaxInFlight = 3 // two slow events hold two slots
	})
	// The timeout: a slow answer is given up on (the app would hold it
	// until the test ends, past the client's own wait).
	c := siotest.Connect(t, n.url, "/notes", nil)
	if got := ask(t, c, "slow"); js(got) != `{"error":"hooks unavailable","ok":false}` {
		t.Fatalf("slow event acked %v", got)
	}
	a.next("event") // that slow event, so that the wait below counts only the holders'

	// The bound: with every slot held, the next event and the next connect
	// are refused at once, not queued behind the slow ones (whose timeout,
	// 10 s, is past the client's wait).
	n2 := start(t, a.srv.URL, func(_ *config.Config, o *hooks.Options) {
		o.Timeout = siotest.Timeout * 2
		o.MaxInFlight = 2
	})
	holders := []*siotest.Client{siotest.Connect(t, n2.url, "/notes", nil), siotest.Connect(t, n2.url, "/notes", nil)}
	third := siotest.Connect(t, n2.url, "/notes", nil)
	for _, h := range holders {
		if err := h.Emit("slow"); err != nil {
			t.Fatal(err)
		}
	}
	for range holders {
		for ev := a.next("event"); ev.body["event"] != "slow"; ev = a.next("event") {
		}
	}
	if got := metricLine(t, n2, "sockside_hook_requests_in_flight"); got != "sockside_hook_requests_in_flight 2" {
		t.Errorf("with both slots held: %q", got)
	}
	if got := ask(t, third, "x"); js(got) != `{"error":"hooks unavailable","ok":false}` {
		t.Fatalf("event beyond the bound acked %v", got)
	}
	_, err := siotest.Dial(n2.url, "/notes", nil)
	var ce *siotest.ConnectError
	if !errors.As(err, &ce) || ce.Message != hooks.Unavailable {
		t.Fatalf("connect beyond the bound: %v", err)
	}
}

func TestEveryUnregisteredNamespaceByDefault(t *testing.T) {
	a := newApp(t, func(hook string, body map[string]any, r *http.Request) (int, any) {
		if hook == "event" && body["event"] == "shout" {
			return 200, map[string]any{"emit": []any{map[string]any{"event": "heard", "args": []any{body["namespace"]}, "namespace": "/lobby"}}}
		}
		return accept(hook, body, r)
	})
	n := start(t, a.srv.URL, nil)
	lobby := siotest.Connect(t, n.url, "/lobby", nil)
	a.next("connect")
	for _, nsp := range []string{"/", "/room-7"} {
		c := siotest.Connect(t, n.url, nsp, nil)
		if got := a.next("connect"); got.body["namespace"] != nsp {
			t.Fatalf("connect hook for %s: %v", nsp, got.body["namespace"])
		}
		if got := ask(t, c, "shout"); got != nil {
			t.Fatalf("shout on %s acked %v, want no arguments", nsp, got)
		}
		var from any
		if err := lobby.Next("heard", &from); err != nil || from != nsp {
			t.Fatalf("lobby heard %v, %v; want %s", from, err, nsp)
		}
	}
	// The Go namespace stays Go's: no hook is asked.
	if got := ask(t, siotest.Connect(t, n.url, "/go", nil), "ping"); got != "pong" {
		t.Fatalf("/go ping = %v", got)
	}
	// A client that goes away is reported with the reason and its rooms.
	_ = lobby.Close()
	for {
		d := a.next("disconnect")
		if d.body["sid"] == lobby.SID {
			if d.body["namespace"] != "/lobby" || d.body["reason"] != "transport close" {
				t.Fatalf("disconnect hook %s", js(d.body))
			}
			break
		}
	}
}

func TestRegisterRefusesAGoNamespace(t *testing.T) {
	srv, err := sockside.New(config.Default(), sockside.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = srv.Shutdown(context.Background()) }()
	srv.Namespace("/go")
	o := hooks.Options{URL: "http://127.0.0.1:1/hooks", Secret: secret, Namespaces: []string{"/go"}, Timeout: time.Second, MaxInFlight: 1, MaxAnswer: 1024}
	if _, err := hooks.Register(srv, o); err == nil || !strings.Contains(err.Error(), "/go is registered by Go code") {
		t.Fatalf("Register = %v", err)
	}
}

// An answer's emit goes through the adapter: with Redis, a socket on
// another node gets it.
func TestAnswerEmitsReachOtherNodes(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379", DialTimeout: time.Second})
	defer rdb.Close()
	if err := rdb.Ping(context.Background()).Err(); err != nil {
		t.Skipf("no Redis on 127.0.0.1:6379 (%v)", err)
	}
	prefix := fmt.Sprintf("hooks-test-%d", time.Now().UnixNano())
	t.Cleanup(func() {
		if keys, _ := rdb.Keys(context.Background(), prefix+"*").Result(); len(keys) > 0 {
			rdb.Del(context.Background(), keys...)
		}
	})
	a := newApp(t, func(hook string, body map[string]any, r *http.Request) (int, any) {
		switch {
		case hook == "connect":
			return 200, map[string]any{"ok": true, "join": []string{"board"}}
		case hook == "event" && body["event"] == "note:add":
			return 200, map[string]any{"emit": []any{map[string]any{"event": "note:added", "args": body["args"], "to": []string{"board"}}}, "ack": []any{"ok"}}
		}
		return accept(hook, body, r)
	})
	for _, mode := range []string{"pubsub", "streams"} {
		t.Run(mode, func(t *testing.T) {
			clustered := func(cfg *config.Config, _ *hooks.Options) {
				cfg.RedisURL, cfg.Adapter, cfg.RedisPrefix = "redis://127.0.0.1:6379/0", mode, prefix+"-"+mode
			}
			one, two := start(t, a.srv.URL, clustered), start(t, a.srv.URL, clustered)
			far := siotest.Connect(t, two.url, "/notes", nil)
			near := siotest.Connect(t, one.url, "/notes", nil)
			// The adapters subscribe asynchronously: retry until the far
			// socket hears one, then check it heard the right one.
			deadline := time.Now().Add(siotest.Timeout)
			for i := 0; ; i++ {
				if got := ask(t, near, "note:add", map[string]any{"n": i}); got != "ok" {
					t.Fatalf("note:add acked %v", got)
				}
				var note map[string]any
				if err := far.NextWithin("note:added", &note, 200*time.Millisecond); err == nil {
					if note["n"] == nil {
						t.Fatalf("far socket got %v", note)
					}
					return
				}
				if time.Now().After(deadline) {
					t.Fatal("the far node's socket never got the answer's emit")
				}
			}
		})
	}
}

// ask is siotest.Ask with the ack type these tests use.
func ask(t *testing.T, c *siotest.Client, event string, args ...any) any {
	t.Helper()
	return siotest.Ask[any](t, c, event, args...)
}
