package engine

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// waitTimeout bounds every wait in these tests.
const waitTimeout = 10 * time.Second

// event is one Handler call, as recorded.
type event struct {
	kind   string // open, message, close, upgrade
	sid    string
	data   string
	binary bool
	reason string
}

// recorder is a Handler that echoes every message and records every call.
type recorder struct {
	mu     sync.Mutex
	events []event
	signal chan struct{}
	echo   bool
}

func (r *recorder) add(e event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
	select {
	case r.signal <- struct{}{}:
	default:
	}
}

func (r *recorder) Open(s *Session) { r.add(event{kind: "open", sid: s.ID()}) }
func (r *recorder) Message(s *Session, data []byte, binary bool) {
	r.add(event{kind: "message", sid: s.ID(), data: string(data), binary: binary})
	if r.echo {
		_ = s.Send(Message(data, binary))
	}
}
func (r *recorder) Close(s *Session, reason string) {
	r.add(event{kind: "close", sid: s.ID(), reason: reason})
}
func (r *recorder) Upgrade(s *Session) { r.add(event{kind: "upgrade", sid: s.ID()}) }

// await returns the first recorded event of kind for sid, waiting for it.
func (r *recorder) await(t *testing.T, kind, sid string) event {
	t.Helper()
	deadline := time.After(waitTimeout)
	for {
		r.mu.Lock()
		for _, e := range r.events {
			if e.kind == kind && e.sid == sid {
				r.mu.Unlock()
				return e
			}
		}
		r.mu.Unlock()
		select {
		case <-r.signal:
		case <-deadline:
			t.Fatalf("no %s event for %s within %s", kind, sid, waitTimeout)
		}
	}
}

type fixture struct {
	t   *testing.T
	srv *Server
	rec *recorder
	web *httptest.Server
}

func start(t *testing.T, mutate func(*Config)) *fixture {
	t.Helper()
	f := newFixture(t, mutate)
	t.Cleanup(f.close)
	return f
}

// newFixture is start without the cleanup: the caller closes it.
func newFixture(t *testing.T, mutate func(*Config)) *fixture {
	t.Helper()
	cfg := Default()
	cfg.PingInterval = 300 * time.Millisecond
	cfg.PingTimeout = 200 * time.Millisecond
	cfg.Logger = slog.New(slog.DiscardHandler)
	if mutate != nil {
		mutate(&cfg)
	}
	rec := &recorder{signal: make(chan struct{}, 1), echo: true}
	srv, err := New(cfg, rec)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/engine.io/", srv)
	web := httptest.NewServer(mux)
	return &fixture{t: t, srv: srv, rec: rec, web: web}
}

func (f *fixture) close() {
	f.srv.Close()
	f.web.Close()
}

func (f *fixture) url(query string) string { return f.web.URL + "/engine.io/?" + query }

type response struct {
	status int
	body   string
}

func (f *fixture) do(ctx context.Context, method, url, body string) (response, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		return response{}, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return response{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return response{res.StatusCode, string(b)}, err
}

func (f *fixture) get(url string) response {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	res, err := f.do(ctx, http.MethodGet, url, "")
	if err != nil {
		f.t.Fatal(err)
	}
	return res
}

func (f *fixture) post(url, body string) response {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	res, err := f.do(ctx, http.MethodPost, url, body)
	if err != nil {
		f.t.Fatal(err)
	}
	return res
}

// openPolling handshakes over polling and returns the sid.
func (f *fixture) openPolling() string {
	f.t.Helper()
	res := f.get(f.url("EIO=4&transport=polling"))
	if res.status != 200 || !strings.HasPrefix(res.body, "0{") {
		f.t.Fatalf("handshake: %d %q", res.status, res.body)
	}
	var open struct {
		SID string `json:"sid"`
	}
	if err := json.Unmarshal([]byte(res.body[1:]), &open); err != nil {
		f.t.Fatal(err)
	}
	f.rec.await(f.t, "open", open.SID)
	return open.SID
}

// parked starts a GET that the server holds, and returns its answer's channel once it is parked.
func (f *fixture) parked(sid string) <-chan response {
	f.t.Helper()
	out := make(chan response, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		res, err := f.do(ctx, http.MethodGet, f.url("EIO=4&transport=polling&sid="+sid), "")
		if err != nil {
			res = response{status: -1, body: err.Error()}
		}
		out <- res
	}()
	sess, ok := f.srv.Session(sid)
	if !ok {
		f.t.Fatalf("no session %s", sid)
	}
	deadline := time.Now().Add(waitTimeout)
	for {
		sess.mu.Lock()
		parked := sess.wakeGet != nil
		sess.mu.Unlock()
		if parked {
			return out
		}
		if time.Now().After(deadline) {
			f.t.Fatal("the GET was not parked")
		}
		time.Sleep(time.Millisecond) // polling a state the server sets, with a deadline
	}
}

func awaitResponse(t *testing.T, ch <-chan response) response {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(waitTimeout):
		t.Fatal("no answer")
		return response{}
	}
}

type wsConn struct {
	t *testing.T
	c *websocket.Conn
}

func (f *fixture) dial(query string) (*wsConn, error) {
	u := "ws" + strings.TrimPrefix(f.url(query), "http")
	c, _, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		return nil, err
	}
	f.t.Cleanup(func() { c.Close() })
	return &wsConn{t: f.t, c: c}, nil
}

func (f *fixture) mustDial(query string) *wsConn {
	f.t.Helper()
	c, err := f.dial(query)
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

func (c *wsConn) send(text string) {
	c.t.Helper()
	if err := c.c.WriteMessage(websocket.TextMessage, []byte(text)); err != nil {
		c.t.Fatal(err)
	}
}

// read returns the next message's type and data.
func (c *wsConn) read() (int, string, error) {
	_ = c.c.SetReadDeadline(time.Now().Add(waitTimeout))
	mt, b, err := c.c.ReadMessage()
	return mt, string(b), err
}

// expectText reads messages, skipping pings ("2", answered) unless want is one, until a text message.
func (c *wsConn) expectText(want string) {
	c.t.Helper()
	for {
		mt, got, err := c.read()
		if err != nil {
			c.t.Fatalf("want %q: %v", want, err)
		}
		if mt == websocket.TextMessage && got == "2" && want != "2" {
			c.send("3")
			continue
		}
		if mt != websocket.TextMessage || got != want {
			c.t.Fatalf("got %d %q, want text %q", mt, got, want)
		}
		return
	}
}

// expectClosed reads until the connection ends, which it must within waitTimeout.
func (c *wsConn) expectClosed() {
	c.t.Helper()
	for {
		if _, _, err := c.read(); err != nil {
			if ne, ok := err.(interface{ Timeout() bool }); ok && ne.Timeout() {
				c.t.Fatal("the connection stayed open")
			}
			return
		}
	}
}
