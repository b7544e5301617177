package engine

import (
	"context"
	"encoding/json"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func TestHandshakePolling(t *testing.T) {
	f := start(t, nil)
	res := f.get(f.url("EIO=4&transport=polling"))
	if res.status != 200 || res.body[0] != '0' {
		t.Fatalf("got %d %q", res.status, res.body)
	}
	var open map[string]any
	if err := json.Unmarshal([]byte(res.body[1:]), &open); err != nil {
		t.Fatal(err)
	}
	if len(open["sid"].(string)) != 20 || open["pingInterval"] != 300.0 || open["pingTimeout"] != 200.0 || open["maxPayload"] != 1e6 {
		t.Errorf("open packet %v", open)
	}
	if u := open["upgrades"].([]any); len(u) != 1 || u[0] != "websocket" {
		t.Errorf("upgrades %v", u)
	}
}

func TestHandshakeWebSocket(t *testing.T) {
	f := start(t, nil)
	c := f.mustDial("EIO=4&transport=websocket")
	mt, got, err := c.read()
	if err != nil || mt != websocket.TextMessage || !strings.HasPrefix(got, `0{"sid":"`) || !strings.Contains(got, `"upgrades":[]`) {
		t.Fatalf("first message: %d %q %v", mt, got, err)
	}
}

func TestHandshakeErrors(t *testing.T) {
	f := start(t, func(c *Config) {
		c.AllowRequest = func(r *http.Request) error {
			if r.Header.Get("Origin") == "http://evil.example" {
				return &RequestError{http.StatusForbidden, 4, "origin not allowed"}
			}
			return nil
		}
	})
	cases := []struct {
		name, method, query, want string
		status                    int
		header                    http.Header
	}{
		{"missing EIO", "GET", "transport=polling", `{"code":5,"message":"Unsupported protocol version"}`, 400, nil},
		{"EIO 3", "GET", "EIO=3&transport=polling", `{"code":5,"message":"Unsupported protocol version"}`, 400, nil},
		{"unknown transport", "GET", "EIO=4&transport=abc", `{"code":0,"message":"Transport unknown"}`, 400, nil},
		{"POST handshake", "POST", "EIO=4&transport=polling", `{"code":2,"message":"Bad handshake method"}`, 400, nil},
		{"websocket without upgrade", "GET", "EIO=4&transport=websocket", `{"code":3,"message":"Bad request"}`, 400, nil},
		{"unknown sid", "GET", "EIO=4&transport=polling&sid=AAAAAAAAAAAAAAAAAAAA", `{"code":1,"message":"Session ID unknown"}`, 400, nil},
		{"refused by AllowRequest", "GET", "EIO=4&transport=polling", `{"code":4,"message":"origin not allowed"}`, 403, http.Header{"Origin": {"http://evil.example"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, f.url(tc.query), nil)
			req.Header = tc.header
			if req.Header == nil {
				req.Header = http.Header{}
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var b strings.Builder
			_, _ = res.Body.Read(make([]byte, 0))
			buf := make([]byte, 512)
			n, _ := res.Body.Read(buf)
			b.Write(buf[:n])
			if res.StatusCode != tc.status || b.String() != tc.want {
				t.Errorf("got %d %s, want %d %s", res.StatusCode, b.String(), tc.status, tc.want)
			}
		})
	}
	if n := f.srv.Count(); n != 0 {
		t.Errorf("%d sessions after refused handshakes", n)
	}
}

func TestMessagesPolling(t *testing.T) {
	f := start(t, nil)
	sid := f.openPolling()
	u := f.url("EIO=4&transport=polling&sid=" + sid)
	if res := f.post(u, "4hello\x1ebAQID\x1e4é"); res.status != 200 || res.body != "ok" {
		t.Fatalf("POST: %d %q", res.status, res.body)
	}
	// The echoes come back in order, binary as base64.
	if res := f.get(u); res.body != "4hello\x1ebAQID\x1e4é" {
		t.Fatalf("GET: %q", res.body)
	}
	e := f.rec.await(t, "message", sid)
	if e.data != "hello" || e.binary {
		t.Errorf("first message %+v", e)
	}
}

func TestMessagesWebSocket(t *testing.T) {
	f := start(t, nil)
	c := f.mustDial("EIO=4&transport=websocket")
	_, open, _ := c.read()
	c.send("4hello")
	c.expectText("4hello")
	if err := c.c.WriteMessage(websocket.BinaryMessage, []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	mt, got, err := c.read()
	if err != nil || mt != websocket.BinaryMessage || got != "\x01\x02\x03" {
		t.Fatalf("binary echo: %d %q %v", mt, got, err)
	}
	_ = open
}

func TestInvalidPayloadPolling(t *testing.T) {
	f := start(t, nil)
	sid := f.openPolling()
	u := f.url("EIO=4&transport=polling&sid=" + sid)
	if res := f.post(u, "abc"); res.status != 400 {
		t.Fatalf("POST abc: %d %q", res.status, res.body)
	}
	if e := f.rec.await(t, "close", sid); e.reason != ReasonParseError {
		t.Errorf("reason %q", e.reason)
	}
	if res := f.get(u); res.status != 400 || !strings.Contains(res.body, `"code":1`) {
		t.Errorf("GET after: %d %q", res.status, res.body)
	}
}

func TestInvalidPacketWebSocket(t *testing.T) {
	f := start(t, nil)
	c := f.mustDial("EIO=4&transport=websocket")
	c.read()
	c.send("abc")
	c.expectClosed()
}

func TestDuplicateGetPolling(t *testing.T) {
	f := start(t, nil)
	sid := f.openPolling()
	u := f.url("EIO=4&transport=polling&sid=" + sid)
	first := f.parked(sid)
	if res := f.get(u + "&t=2"); res.status != 400 {
		t.Errorf("second GET: %d %q", res.status, res.body)
	}
	if res := awaitResponse(t, first); res.status != 200 || res.body != "1" {
		t.Errorf("first GET: %d %q, want the close packet", res.status, res.body)
	}
	if e := f.rec.await(t, "close", sid); e.reason != ReasonTransportError {
		t.Errorf("reason %q", e.reason)
	}
}

func TestCancelledGetClosesTheSession(t *testing.T) {
	f := start(t, nil)
	sid := f.openPolling()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = f.do(ctx, http.MethodGet, f.url("EIO=4&transport=polling&sid="+sid), "")
	}()
	sess, _ := f.srv.Session(sid)
	deadline := time.Now().Add(waitTimeout)
	for {
		sess.mu.Lock()
		parked := sess.wakeGet != nil
		sess.mu.Unlock()
		if parked || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
	if e := f.rec.await(t, "close", sid); e.reason != ReasonTransportClose {
		t.Errorf("reason %q", e.reason)
	}
}

func TestHeartbeatAndPingTimeoutPolling(t *testing.T) {
	f := start(t, nil)
	sid := f.openPolling()
	u := f.url("EIO=4&transport=polling&sid=" + sid)
	for range 3 {
		if res := f.get(u); res.body != "2" {
			t.Fatalf("GET: %q, want a ping", res.body)
		}
		f.post(u, "3")
	}
	if res := f.get(u); res.body != "2" {
		t.Fatalf("GET: %q, want a ping", res.body)
	}
	// No pong: the session ends pingTimeout later; a parked GET gets the close packet.
	parked := f.parked(sid)
	if e := f.rec.await(t, "close", sid); e.reason != ReasonPingTimeout {
		t.Errorf("reason %q", e.reason)
	}
	if res := awaitResponse(t, parked); res.body != "1" {
		t.Errorf("parked GET: %q", res.body)
	}
}

func TestHeartbeatAndPingTimeoutWebSocket(t *testing.T) {
	f := start(t, nil)
	c := f.mustDial("EIO=4&transport=websocket")
	_, open, _ := c.read()
	var o struct {
		SID string `json:"sid"`
	}
	_ = json.Unmarshal([]byte(open[1:]), &o)
	for range 3 {
		c.expectText("2")
		c.send("3")
	}
	c.expectText("2")
	c.expectClosed()
	if e := f.rec.await(t, "close", o.SID); e.reason != ReasonPingTimeout {
		t.Errorf("reason %q", e.reason)
	}
}

func TestCloseByClient(t *testing.T) {
	f := start(t, nil)
	sid := f.openPolling()
	u := f.url("EIO=4&transport=polling&sid=" + sid)
	parked := f.parked(sid)
	if res := f.post(u, "1"); res.body != "ok" {
		t.Fatalf("POST 1: %q", res.body)
	}
	if res := awaitResponse(t, parked); res.body != "6" {
		t.Errorf("parked GET: %q, want a noop", res.body)
	}
	if e := f.rec.await(t, "close", sid); e.reason != ReasonTransportClose {
		t.Errorf("reason %q", e.reason)
	}

	// A websocket's close frame.
	sid2, c := upgrade(t, f)
	msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
	_ = c.c.WriteControl(websocket.CloseMessage, msg, time.Now().Add(waitTimeout))
	if e := f.rec.await(t, "close", sid2); e.reason != ReasonTransportClose {
		t.Errorf("websocket close frame: reason %q", e.reason)
	}
}

func TestServerCloseAnswersParkedGet(t *testing.T) {
	f := start(t, nil)
	parked := f.parked(f.openPolling())
	f.srv.Close()
	if res := awaitResponse(t, parked); res.body != "1" {
		t.Errorf("parked GET: %q", res.body)
	}
}

// upgrade opens a polling session and upgrades it to websocket.
func upgrade(t *testing.T, f *fixture) (string, *wsConn) {
	t.Helper()
	sid := f.openPolling()
	parked := f.parked(sid)
	c := f.mustDial("EIO=4&transport=websocket&sid=" + sid)
	c.send("2probe")
	c.expectText("3probe")
	if res := awaitResponse(t, parked); res.body != "6" {
		t.Fatalf("GET during the upgrade: %q, want a noop", res.body)
	}
	c.send("5")
	f.rec.await(t, "upgrade", sid)
	return sid, c
}

func TestUpgrade(t *testing.T) {
	f := start(t, nil)
	sid, c := upgrade(t, f)
	c.send("4after")
	c.expectText("4after")
	// Polling requests for an upgraded session are refused; the session goes on.
	u := f.url("EIO=4&transport=polling&sid=" + sid)
	if res := f.get(u); res.status != 400 || !strings.Contains(res.body, `"code":3`) {
		t.Errorf("GET after the upgrade: %d %q", res.status, res.body)
	}
	if res := f.post(u, "4x"); res.status != 400 {
		t.Errorf("POST after the upgrade: %d %q", res.status, res.body)
	}
	// A second websocket for it is refused too.
	if second, err := f.dial("EIO=4&transport=websocket&sid=" + sid); err == nil {
		second.expectClosed()
	}
	c.send("4still")
	c.expectText("4still")
}

func TestUpgradeTimeoutKeepsPolling(t *testing.T) {
	f := start(t, func(c *Config) { c.UpgradeTimeout = 100 * time.Millisecond })
	sid := f.openPolling()
	c := f.mustDial("EIO=4&transport=websocket&sid=" + sid)
	c.send("2probe")
	c.expectText("3probe")
	c.expectClosed() // no "5" within the timeout
	u := f.url("EIO=4&transport=polling&sid=" + sid)
	f.get(u) // the noop of the probe
	f.post(u, "4still polling")
	if res := f.get(u); res.body != "4still polling" {
		t.Errorf("GET: %q", res.body)
	}
}

func TestOversizeMessages(t *testing.T) {
	f := start(t, func(c *Config) { c.MaxPayload = 1024 })
	sid := f.openPolling()
	if res := f.post(f.url("EIO=4&transport=polling&sid="+sid), "4"+strings.Repeat("x", 2000)); res.status != http.StatusRequestEntityTooLarge {
		t.Errorf("oversize POST: %d", res.status)
	}
	if e := f.rec.await(t, "close", sid); e.reason != ReasonTransportError {
		t.Errorf("reason %q", e.reason)
	}
	c := f.mustDial("EIO=4&transport=websocket")
	_, open, _ := c.read()
	var o struct {
		SID string `json:"sid"`
	}
	_ = json.Unmarshal([]byte(open[1:]), &o)
	c.send("4" + strings.Repeat("x", 2000))
	c.expectClosed()
	if e := f.rec.await(t, "close", o.SID); e.reason != ReasonTransportError {
		t.Errorf("oversize websocket message: reason %q", e.reason)
	}
}

func TestSlowConsumerCutOff(t *testing.T) {
	f := start(t, func(c *Config) { c.SendBuffer = 4096 })
	sid := f.openPolling()
	sess, _ := f.srv.Session(sid)
	big := Message([]byte(strings.Repeat("x", 1000)), false)
	var err error
	for i := 0; i < 10 && err == nil; i++ {
		err = sess.Send(big) // nobody polls: the queue grows to the bound
	}
	if err != ErrSlowConsumer {
		t.Fatalf("send past the bound: %v", err)
	}
	if e := f.rec.await(t, "close", sid); e.reason != ReasonTransportError {
		t.Errorf("reason %q", e.reason)
	}
}

// The point of the netpoller: an idle websocket has no goroutine.
func TestIdleWebSocketsHaveNoGoroutine(t *testing.T) {
	f := start(t, func(c *Config) { c.PingInterval = time.Minute; c.PingTimeout = time.Minute })
	before := runtime.NumGoroutine()
	const n = 200
	conns := make([]*wsConn, n)
	for i := range conns {
		conns[i] = f.mustDial("EIO=4&transport=websocket")
		conns[i].read()
	}
	// The client side (gorilla) holds no goroutine per connection either
	// until it reads; settle the handlers' Open calls.
	deadline := time.Now().Add(waitTimeout)
	for f.srv.Count() < n || runtime.NumGoroutine()-before > 20 {
		if time.Now().After(deadline) {
			t.Fatalf("%d sessions, %d goroutines more than before %d idle websockets", f.srv.Count(), runtime.NumGoroutine()-before, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A client's close and its GET may arrive in either order: a close with no
// GET parked leaves the session known until the next GET has taken its noop.
func TestCloseByClientBeforeItsGet(t *testing.T) {
	f := start(t, nil)
	sid := f.openPolling()
	u := f.url("EIO=4&transport=polling&sid=" + sid)
	if res := f.post(u, "1"); res.body != "ok" {
		t.Fatalf("POST 1: %q", res.body)
	}
	if res := f.get(u); res.status != 200 || res.body != "6" {
		t.Errorf("GET after the close: %d %q, want the noop", res.status, res.body)
	}
	if res := f.get(u); res.status != 400 {
		t.Errorf("the next GET: %d %q, want 400", res.status, res.body)
	}
}

// A GET after the probe: the noop at once while the client has not sent its
// upgrade packet; 400 once it has (the session moved to the websocket).
func TestGetDuringTheUpgrade(t *testing.T) {
	f := start(t, nil)
	sid := f.openPolling()
	u := f.url("EIO=4&transport=polling&sid=" + sid)
	c := f.mustDial("EIO=4&transport=websocket&sid=" + sid)
	c.send("2probe")
	c.expectText("3probe")
	if res := f.get(u); res.status != 200 || res.body != "6" {
		t.Errorf("GET after the probe: %d %q, want the noop", res.status, res.body)
	}
	// Another GET while the probe is still on (the client was polling when
	// it got the answer, and waits for this GET before it upgrades): a
	// noop, not a wait for the next ping.
	if res := f.get(u); res.status != 200 || res.body != "6" {
		t.Errorf("second GET during the probe: %d %q, want the noop", res.status, res.body)
	}
	sid2 := f.openPolling()
	c2 := f.mustDial("EIO=4&transport=websocket&sid=" + sid2)
	c2.send("2probe")
	c2.expectText("3probe")
	c2.send("5")
	if res := f.get(f.url("EIO=4&transport=polling&sid=" + sid2)); res.status != 400 {
		t.Errorf("GET right after the upgrade packet: %d %q, want 400", res.status, res.body)
	}
	c2.send("4still")
	c2.expectText("4still")
}

func TestCounters(t *testing.T) {
	var received, sent, refused, slow atomic.Int64
	f := start(t, func(c *Config) {
		c.SendBuffer = 4096
		c.Counters = Counters{
			Received:     func(n int) { received.Add(int64(n)) },
			Sent:         func(n int) { sent.Add(int64(n)) },
			Refused:      func(e *RequestError) { refused.Add(1) },
			SlowConsumer: func(string, int64) { slow.Add(1) },
		}
	})
	ws := f.mustDial("EIO=4&transport=websocket")
	if _, open, err := ws.read(); err != nil || !strings.HasPrefix(open, "0{") {
		t.Fatalf("open %q %v", open, err)
	}
	ws.send("4hello") // echoed
	ws.expectText("4hello")
	if received.Load() != 5 || sent.Load() != 5 {
		t.Errorf("received %d, sent %d bytes; want 5 each", received.Load(), sent.Load())
	}
	_ = f.get(f.url("EIO=4&transport=polling&sid=nope"))
	if refused.Load() != 1 {
		t.Errorf("refused %d", refused.Load())
	}
	sid := f.openPolling()
	sess, _ := f.srv.Session(sid)
	for i := 0; i < 10 && sess.Send(Message([]byte(strings.Repeat("x", 1000)), false)) == nil; i++ {
	}
	if slow.Load() != 1 {
		t.Errorf("slow consumers %d", slow.Load())
	}
}

// Packets queued together go out together: one long-polling answer, even
// when a GET is already parked (it is woken once they are all queued).
func TestQueueAllGoesOutTogether(t *testing.T) {
	f := start(t, nil)
	sid := f.openPolling()
	sess, _ := f.srv.Session(sid)
	parked := f.parked(sid)
	if err := sess.QueueAll([]*Packet{Message([]byte("a"), false), Message([]byte("b"), false), Message([]byte("c"), false)}); err != nil {
		t.Fatal(err)
	}
	if res := awaitResponse(t, parked); res.body != "4a\x1e4b\x1e4c" {
		t.Fatalf("GET: %q", res.body)
	}
}
