package plainws

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// wait bounds every read and every wait for the server in these tests.
const wait = 5 * time.Second

// testMaxMessage is the hub's read limit in these tests.
const testMaxMessage = 1024

// hubServer is a Hub behind an httptest server.
type hubServer struct {
	hub    *Hub
	srv    *httptest.Server
	url    string
	counts chan int // every OnCount report, in order
}

// newHubServer starts a hub whose CheckOrigin is checkOrigin (nil: allow
// all). Pings are far off so they never interleave with test messages. The
// hub and server are closed when the test ends.
func newHubServer(t *testing.T, checkOrigin func(*http.Request) bool) *hubServer {
	t.Helper()
	if checkOrigin == nil {
		checkOrigin = func(*http.Request) bool { return true }
	}
	// OnCount runs under the hub's lock: the buffer must outlast every
	// report a test makes, or the hub would block.
	hs := &hubServer{counts: make(chan int, 1024)}
	hs.hub = New(Options{
		MaxMessage:   testMaxMessage,
		PingInterval: time.Hour,
		PingTimeout:  wait,
		CheckOrigin:  checkOrigin,
		OnCount:      func(n int) { hs.counts <- n },
		Logger:       slog.New(slog.DiscardHandler),
	})
	hs.srv = httptest.NewServer(hs.hub)
	hs.url = "ws" + strings.TrimPrefix(hs.srv.URL, "http")
	t.Cleanup(func() {
		closeWithin(t, hs.hub)
		hs.srv.Close()
	})
	return hs
}

// closeWithin runs hub.Close and fails the test if it does not return in time.
func closeWithin(t *testing.T, hub *Hub) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		hub.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(wait):
		t.Fatal("Hub.Close did not return")
	}
}

// waitCount consumes OnCount reports until one says n clients.
func (hs *hubServer) waitCount(t *testing.T, n int) {
	t.Helper()
	timeout := time.After(wait)
	for {
		select {
		case got := <-hs.counts:
			if got == n {
				return
			}
		case <-timeout:
			t.Fatalf("hub never reported %d clients", n)
		}
	}
}

// dial connects a client and closes it when the test ends.
func (hs *hubServer) dial(t *testing.T) *websocket.Conn {
	t.Helper()
	d := websocket.Dialer{HandshakeTimeout: wait}
	conn, resp, err := d.Dial(hs.url, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	_ = resp.Body.Close()
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

func send(t *testing.T, conn *websocket.Conn, kind int, data string) {
	t.Helper()
	_ = conn.SetWriteDeadline(time.Now().Add(wait))
	if err := conn.WriteMessage(kind, []byte(data)); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// receive reads one text message within the deadline and decodes it.
func receive(t *testing.T, conn *websocket.Conn) Message {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(wait))
	kind, data, err := conn.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if kind != websocket.TextMessage {
		t.Fatalf("got message type %d, want text", kind)
	}
	var m Message
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("server sent invalid JSON %q: %v", data, err)
	}
	return m
}

// closeCode reads until the connection ends and returns the close code the
// server sent.
func closeCode(t *testing.T, conn *websocket.Conn) int {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(wait))
	for {
		_, _, err := conn.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code
		}
		t.Fatalf("connection ended without a close frame: %v", err)
	}
}

// roundTrip proves conn is registered and served: an echo comes back.
func roundTrip(t *testing.T, conn *websocket.Conn, data string) {
	t.Helper()
	send(t, conn, websocket.TextMessage, `{"type":"echo","data":`+data+`}`)
	if m := receive(t, conn); m.Type != "echo" || string(m.Data) != data {
		t.Fatalf("echo of %s: got %+v", data, m)
	}
}

func TestEcho(t *testing.T) {
	hs := newHubServer(t, nil)
	conn := hs.dial(t)
	tests := []struct{ name, data string }{
		{"object", `{"text":"hi","n":[1,2]}`},
		{"string", `"hello"`},
		{"number", `42`},
		{"null", `null`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := time.Now().UnixMilli()
			send(t, conn, websocket.TextMessage, `{"type":"echo","data":`+tt.data+`}`)
			m := receive(t, conn)
			after := time.Now().UnixMilli()
			if m.Type != "echo" || string(m.Data) != tt.data || m.Error != "" {
				t.Errorf("got %+v, want type echo with data %s", m, tt.data)
			}
			if m.TS < before || m.TS > after {
				t.Errorf("ts %d outside [%d, %d]", m.TS, before, after)
			}
		})
	}
}

func TestBroadcastReachesEveryClient(t *testing.T) {
	hs := newHubServer(t, nil)
	a, b := hs.dial(t), hs.dial(t)
	// Both are registered once each has had an answer.
	roundTrip(t, a, `"a"`)
	roundTrip(t, b, `"b"`)

	send(t, a, websocket.TextMessage, `{"type":"broadcast","data":{"msg":"to all"}}`)
	for name, conn := range map[string]*websocket.Conn{"sender": a, "other": b} {
		m := receive(t, conn)
		if m.Type != "broadcast" || string(m.Data) != `{"msg":"to all"}` || m.TS == 0 {
			t.Errorf("%s got %+v, want the broadcast with a ts", name, m)
		}
	}
}

func TestErrors(t *testing.T) {
	hs := newHubServer(t, nil)
	conn := hs.dial(t)
	tests := []struct {
		name string
		kind int
		data string
		want string // substring of the error
	}{
		{"invalid JSON", websocket.TextMessage, `{"type":`, "invalid JSON"},
		{"not an object", websocket.TextMessage, `[1,2]`, "invalid JSON"},
		{"unknown type", websocket.TextMessage, `{"type":"shout","data":1}`, "unknown type"},
		{"no type", websocket.TextMessage, `{"data":1}`, "unknown type"},
		{"binary frame", websocket.BinaryMessage, `{"type":"echo","data":1}`, "JSON text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			send(t, conn, tt.kind, tt.data)
			m := receive(t, conn)
			if m.Type != "error" || !strings.Contains(m.Error, tt.want) {
				t.Errorf("got %+v, want type error mentioning %q", m, tt.want)
			}
		})
	}
	// An error does not end the connection.
	roundTrip(t, conn, `"still here"`)
}

func TestOriginRefused(t *testing.T) {
	checked := make(chan string, 2)
	hs := newHubServer(t, func(r *http.Request) bool {
		checked <- r.Header.Get("Origin")
		return r.Header.Get("Origin") == "https://app.example.com"
	})
	d := websocket.Dialer{HandshakeTimeout: wait}

	conn, resp, err := d.Dial(hs.url, http.Header{"Origin": {"https://evil.example"}})
	if err == nil {
		_ = conn.Close()
		t.Fatal("dial from a refused origin succeeded")
	}
	if resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("refused dial: err %v, response %v; want 403", err, resp)
	}
	_ = resp.Body.Close()

	conn, resp, err = d.Dial(hs.url, http.Header{"Origin": {"https://app.example.com"}})
	if err != nil {
		t.Fatalf("dial from an allowed origin: %v", err)
	}
	_ = resp.Body.Close()
	defer conn.Close()
	roundTrip(t, conn, `1`)
	if len(checked) != 2 {
		t.Errorf("CheckOrigin ran %d times, want once per dial", len(checked))
	}
}

func TestOversizeMessageClosesOnlyThatConnection(t *testing.T) {
	hs := newHubServer(t, nil)
	big, small := hs.dial(t), hs.dial(t)
	roundTrip(t, big, `1`)
	roundTrip(t, small, `2`)
	hs.waitCount(t, 2)

	send(t, big, websocket.TextMessage, `{"type":"echo","data":"`+strings.Repeat("x", testMaxMessage)+`"}`)
	if code := closeCode(t, big); code != websocket.CloseMessageTooBig {
		t.Errorf("oversize sender closed with %d, want %d", code, websocket.CloseMessageTooBig)
	}
	hs.waitCount(t, 1)
	roundTrip(t, small, `"unaffected"`)

	// A message right at the limit is fine.
	atLimit := `{"type":"echo","data":"` + strings.Repeat("y", testMaxMessage-len(`{"type":"echo","data":""}`)) + `"}`
	if len(atLimit) != testMaxMessage {
		t.Fatalf("test message is %d bytes, want %d", len(atLimit), testMaxMessage)
	}
	send(t, small, websocket.TextMessage, atLimit)
	if m := receive(t, small); m.Type != "echo" {
		t.Errorf("message at the limit: got %+v, want an echo", m)
	}
}

func TestCloseSaysGoingAway(t *testing.T) {
	hs := newHubServer(t, nil)
	a, b := hs.dial(t), hs.dial(t)
	roundTrip(t, a, `1`)
	roundTrip(t, b, `2`)
	hs.waitCount(t, 2)

	closeWithin(t, hs.hub)
	for name, conn := range map[string]*websocket.Conn{"a": a, "b": b} {
		if code := closeCode(t, conn); code != websocket.CloseGoingAway {
			t.Errorf("client %s closed with %d, want %d", name, code, websocket.CloseGoingAway)
		}
	}
	hs.waitCount(t, 0)

	// After Close, newcomers are told the same and let go.
	late := hs.dial(t)
	if code := closeCode(t, late); code != websocket.CloseGoingAway {
		t.Errorf("client after Close got %d, want %d", code, websocket.CloseGoingAway)
	}
}

func TestClientLeavingIsCounted(t *testing.T) {
	hs := newHubServer(t, nil)
	a := hs.dial(t)
	hs.waitCount(t, 1)
	b := hs.dial(t)
	hs.waitCount(t, 2)
	_ = a.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(wait))
	_ = a.Close()
	hs.waitCount(t, 1)
	roundTrip(t, b, `"b stays"`)
}
