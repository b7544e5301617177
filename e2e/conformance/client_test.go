package main

// A raw Engine.IO v4 client for the conformance tests: plain HTTP requests
// for long-polling and gorilla/websocket frames for WebSocket, so every byte
// on the wire is the test's own and nothing is smoothed over by a client
// library.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/sockside/sockside/internal/engine"
)

// waitTimeout bounds every wait: an HTTP request, a websocket read, a
// server-side event. The fixture's own clocks (300 ms ping interval, 200 ms
// ping timeout, 1 s connect timeout) all fit well inside it.
const waitTimeout = 2 * time.Second

// recordSeparator joins packets in a long-polling payload.
const recordSeparator = "\x1e"

// mount is one of the fixture's Engine.IO servers: the bare one, or the one
// under Socket.IO. The Engine.IO cases run on both, as the suites do; the
// cases that watch a session's events from the server side (its close
// reason, its parked GET, its upgrade) run on the bare one, whose handler
// the tests hear (the Socket.IO suite covers those on /socket.io/).
type mount struct {
	name    string
	path    string
	watched bool
}

var (
	engineMount   = mount{"engine.io", "/engine.io/", true}
	socketioMount = mount{"socket.io", "/socket.io/", false}
	mounts        = []mount{engineMount, socketioMount}
)

// testFixture is the fixture served by an httptest server, with the bare
// Engine.IO server's sessions watched.
type testFixture struct {
	*fixture
	srv   *httptest.Server
	watch *watcher
	left  *registry[string] // a Socket.IO socket's disconnect reason, by namespace and sid
}

// watcher hears the bare Engine.IO server's sessions: each as it opens,
// its close reason, its upgrade.
type watcher struct {
	opened *registry[*engine.Session]

	mu       sync.Mutex
	closed   map[string]chan string
	upgraded map[string]chan string
}

func (w *watcher) signal(m map[string]chan string, sid string) chan string {
	w.mu.Lock()
	defer w.mu.Unlock()
	ch, ok := m[sid]
	if !ok {
		ch = make(chan string, 1)
		m[sid] = ch
	}
	return ch
}

func (w *watcher) Open(s *engine.Session)                { w.opened.add(s.ID(), s) }
func (w *watcher) Message(*engine.Session, []byte, bool) {}
func (w *watcher) Close(s *engine.Session, reason string) {
	select {
	case w.signal(w.closed, s.ID()) <- reason:
	default:
	}
}
func (w *watcher) Upgrade(s *engine.Session) {
	select {
	case w.signal(w.upgraded, s.ID()) <- "":
	default:
	}
}

// registry is a set of values by id that a test can wait on.
type registry[T any] struct {
	mu    sync.Mutex
	byID  map[string]T
	added chan struct{} // closed (and replaced) on every addition
}

func newRegistry[T any]() *registry[T] {
	return &registry[T]{byID: map[string]T{}, added: make(chan struct{})}
}

func (r *registry[T]) add(id string, v T) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.byID[id] = v
	close(r.added)
	r.added = make(chan struct{})
}

// wait returns the value for id, waiting up to waitTimeout for it.
func (r *registry[T]) wait(id string) (T, bool) {
	timeout := time.After(waitTimeout)
	for {
		r.mu.Lock()
		v, ok := r.byID[id]
		added := r.added
		r.mu.Unlock()
		if ok {
			return v, true
		}
		select {
		case <-added:
		case <-timeout:
			return v, false
		}
	}
}

// startFixture serves a fresh fixture for one test and tears it down when
// the test ends: sessions first (which answers parked GETs), then the
// listener and every connection still open.
func startFixture(t *testing.T) *testFixture {
	t.Helper()
	w := &watcher{opened: newRegistry[*engine.Session](), closed: map[string]chan string{}, upgraded: map[string]chan string{}}
	left := newRegistry[string]()
	fx, err := newFixture(w, func(nsp, sid, reason string) { left.add(nsp+" "+sid, reason) })
	if err != nil {
		t.Fatal(err)
	}
	f := &testFixture{fixture: fx, watch: w, left: left}
	f.srv = httptest.NewServer(f)
	t.Cleanup(func() {
		f.Close()
		f.srv.CloseClientConnections()
		f.srv.Close()
	})
	return f
}

// url returns the address of a mount with the query appended, e.g.
// f.url(engineMount, "EIO=4&transport=polling").
func (f *testFixture) url(m mount, query string) string {
	return f.srv.URL + m.path + "?" + query
}

func pollingQuery(sid string) string {
	return "EIO=4&transport=polling&sid=" + url.QueryEscape(sid)
}

// response is what the tests look at in an HTTP answer.
type response struct {
	status int
	header http.Header
	body   string
}

// request sends one HTTP request bounded by waitTimeout. It does not touch
// t, so it may run on another goroutine (see goRequest).
func (f *testFixture) request(ctx context.Context, method, rawURL, body string, header http.Header) (response, error) {
	ctx, cancel := context.WithTimeout(ctx, waitTimeout)
	defer cancel()
	var reader io.Reader
	if body != "" {
		reader = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, rawURL, reader)
	if err != nil {
		return response{}, fmt.Errorf("build %s %s: %w", method, rawURL, err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := f.srv.Client().Do(req)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: %w", method, rawURL, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return response{}, fmt.Errorf("read %s %s: %w", method, rawURL, err)
	}
	return response{status: res.StatusCode, header: res.Header, body: string(b)}, nil
}

func (f *testFixture) get(t *testing.T, rawURL string) response {
	t.Helper()
	res, err := f.request(t.Context(), http.MethodGet, rawURL, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func (f *testFixture) post(t *testing.T, rawURL, body string) response {
	t.Helper()
	res, err := f.request(t.Context(), http.MethodPost, rawURL, body, nil)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

type result struct {
	response
	err error
}

// goRequest runs a request in the background; receive its result with
// await. The goroutine ends with the request, which waitTimeout bounds.
func (f *testFixture) goRequest(ctx context.Context, method, rawURL, body string) <-chan result {
	done := make(chan result, 1)
	go func() {
		res, err := f.request(ctx, method, rawURL, body, nil)
		done <- result{res, err}
	}()
	return done
}

func await(t *testing.T, ch <-chan result) response {
	t.Helper()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatal(r.err)
		}
		return r.response
	case <-time.After(2 * waitTimeout):
		t.Fatal("background request did not finish")
		return response{}
	}
}

// expectResponse fails unless res has the status and, for 200, the body.
func expectResponse(t *testing.T, what string, res response, status int, body string) {
	t.Helper()
	if res.status != status || (status == http.StatusOK && res.body != body) {
		t.Fatalf("%s: got %d %q, want %d %q", what, res.status, res.body, status, body)
	}
}

// openHandshake is the payload of the Engine.IO open packet.
type openHandshake struct {
	Sid          string   `json:"sid"`
	Upgrades     []string `json:"upgrades"`
	PingInterval int      `json:"pingInterval"`
	PingTimeout  int      `json:"pingTimeout"`
	MaxPayload   int      `json:"maxPayload"`
}

// parseOpen checks an open packet as the suites do (exactly these keys, the
// fixture's values) and returns it.
func parseOpen(t *testing.T, packet string, upgrades []string) openHandshake {
	t.Helper()
	payload, ok := strings.CutPrefix(packet, "0")
	if !ok {
		t.Fatalf("open packet: got %q, want a 0 packet", packet)
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal([]byte(payload), &keys); err != nil {
		t.Fatalf("open packet %q: %v", packet, err)
	}
	got := slices.Sorted(func(yield func(string) bool) {
		for k := range keys {
			if !yield(k) {
				return
			}
		}
	})
	if want := []string{"maxPayload", "pingInterval", "pingTimeout", "sid", "upgrades"}; !slices.Equal(got, want) {
		t.Errorf("open packet keys: got %v, want %v", got, want)
	}
	var h openHandshake
	if err := json.Unmarshal([]byte(payload), &h); err != nil {
		t.Fatalf("open packet %q: %v", packet, err)
	}
	if h.Sid == "" {
		t.Error("open packet: empty sid")
	}
	if !slices.Equal(h.Upgrades, upgrades) {
		t.Errorf("upgrades: got %v, want %v", h.Upgrades, upgrades)
	}
	if h.PingInterval != int(pingInterval/time.Millisecond) || h.PingTimeout != int(pingTimeout/time.Millisecond) || h.MaxPayload != maxPayload {
		t.Errorf("timings: got pingInterval %d, pingTimeout %d, maxPayload %d; want %d, %d, %d",
			h.PingInterval, h.PingTimeout, h.MaxPayload, pingInterval/time.Millisecond, pingTimeout/time.Millisecond, maxPayload)
	}
	return h
}

// openPolling performs a long-polling handshake and returns the sid.
func (f *testFixture) openPolling(t *testing.T, m mount) string {
	t.Helper()
	res := f.get(t, f.url(m, "EIO=4&transport=polling"))
	if res.status != http.StatusOK {
		t.Fatalf("polling handshake: got %d %q", res.status, res.body)
	}
	return parseOpen(t, res.body, []string{"websocket"}).Sid
}

// onTransportReady signals when the session's long-polling GET is parked.
// Nothing on the wire tells a client that its GET is parked, and the cases
// that race a request against a parked GET need it to be.
func (f *testFixture) onTransportReady(t *testing.T, m mount, sid string) <-chan struct{} {
	t.Helper()
	s := f.session(t, m, sid)
	ready := make(chan struct{}, 1)
	go func() {
		deadline := time.Now().Add(waitTimeout)
		for time.Now().Before(deadline) {
			if s.Parked() {
				ready <- struct{}{}
				return
			}
			time.Sleep(time.Millisecond) // a state the server sets, polled with a deadline
		}
	}()
	return ready
}

// onSessionEvent signals when the session closes (with its reason) or
// upgrades (ev "close" or "upgrade").
func (f *testFixture) onSessionEvent(t *testing.T, m mount, sid, ev string) <-chan string {
	t.Helper()
	f.session(t, m, sid)
	if ev == "upgrade" {
		return f.watch.signal(f.watch.upgraded, sid)
	}
	return f.watch.signal(f.watch.closed, sid)
}

// session is the watched session sid; on an unwatched mount the case is
// skipped (see mount).
func (f *testFixture) session(t *testing.T, m mount, sid string) *engine.Session {
	t.Helper()
	if !m.watched {
		t.Skipf("%s: session events are watched on the bare Engine.IO server; the Socket.IO suite covers this case on /socket.io/", m.name)
	}
	s, ok := f.watch.opened.wait(sid)
	if !ok {
		t.Fatalf("no session %q on %s", sid, m.name)
	}
	return s
}

func waitSignal[T any](t *testing.T, what string, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitTimeout):
		t.Fatalf("timed out waiting for %s", what)
		var zero T
		return zero
	}
}

// expectSessionClose waits for a "close" from onSessionEvent and checks its
// reason.
func expectSessionClose(t *testing.T, closed <-chan string, reason string) {
	t.Helper()
	if got := waitSignal(t, "the session to close", closed); got != reason {
		t.Errorf("close reason: got %q, want %q", got, reason)
	}
}

// parkGet sends a GET for sid and returns once the server has parked it.
func (f *testFixture) parkGet(t *testing.T, m mount, sid string) <-chan result {
	t.Helper()
	ready := f.onTransportReady(t, m, sid)
	res := f.goRequest(t.Context(), http.MethodGet, f.url(m, pollingQuery(sid)), "")
	waitSignal(t, "the GET to be parked", ready)
	return res
}

// wsConn is a raw Engine.IO websocket connection.
type wsConn struct {
	t *testing.T
	c *websocket.Conn
}

func (f *testFixture) wsURL(m mount, query string) string {
	return "ws" + strings.TrimPrefix(f.url(m, query), "http")
}

// dialWS opens a websocket; the connection is closed when the test ends.
func (f *testFixture) dialWS(t *testing.T, m mount, query string) *wsConn {
	t.Helper()
	c, err := f.tryDialWS(t, m, query)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (f *testFixture) tryDialWS(t *testing.T, m mount, query string) (*wsConn, error) {
	t.Helper()
	d := websocket.Dialer{HandshakeTimeout: waitTimeout}
	u := f.wsURL(m, query)
	c, res, err := d.DialContext(t.Context(), u, nil)
	if err != nil {
		if res != nil {
			return nil, fmt.Errorf("dial %s: %w (HTTP %d)", u, err, res.StatusCode)
		}
		return nil, fmt.Errorf("dial %s: %w", u, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return &wsConn{t: t, c: c}, nil
}

// openWS performs a websocket handshake and returns the connection.
func (f *testFixture) openWS(t *testing.T, m mount) *wsConn {
	t.Helper()
	c := f.dialWS(t, m, "EIO=4&transport=websocket")
	parseOpen(t, c.readText(), []string{})
	return c
}

// frame is one websocket message.
type frame struct {
	binary bool
	data   string
}

func text(s string) frame { return frame{data: s} }

func binary(b ...byte) frame { return frame{binary: true, data: string(b)} }

// The heartbeat packets.
var (
	ping = text("2")
	pong = text("3")
)

func (f frame) String() string {
	if f.binary {
		return fmt.Sprintf("binary %v", []byte(f.data))
	}
	return fmt.Sprintf("text %q", f.data)
}

// read returns the next frame, failing the test if none comes within
// waitTimeout or the connection ends.
func (c *wsConn) read() frame {
	c.t.Helper()
	fr, err := c.tryRead()
	if err != nil {
		c.t.Fatalf("websocket read: %v", err)
	}
	return fr
}

func (c *wsConn) tryRead() (frame, error) {
	return c.readBy(time.Now().Add(waitTimeout))
}

func (c *wsConn) readBy(deadline time.Time) (frame, error) {
	if err := c.c.SetReadDeadline(deadline); err != nil {
		return frame{}, fmt.Errorf("set read deadline: %w", err)
	}
	typ, data, err := c.c.ReadMessage()
	if err != nil {
		return frame{}, err
	}
	return frame{binary: typ == websocket.BinaryMessage, data: string(data)}, nil
}

func (c *wsConn) readText() string {
	c.t.Helper()
	fr := c.read()
	if fr.binary {
		c.t.Fatalf("websocket read: got %v, want a text frame", fr)
	}
	return fr.data
}

func (c *wsConn) expect(want frame) {
	c.t.Helper()
	if got := c.read(); got != want {
		c.t.Fatalf("websocket read: got %v, want %v", got, want)
	}
}

func (c *wsConn) expectText(want string) {
	c.t.Helper()
	c.expect(text(want))
}

// readSkippingPings answers and skips server pings, for cases that are not
// about the heartbeat but may outlive a ping interval. The whole wait is
// bounded by waitTimeout.
func (c *wsConn) readSkippingPings() frame {
	c.t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		fr, err := c.readBy(deadline)
		if err != nil {
			c.t.Fatalf("websocket read: %v", err)
		}
		if fr != ping {
			return fr
		}
		c.sendFrames(pong)
	}
}

func (c *wsConn) send(packet string) {
	c.t.Helper()
	c.sendFrames(text(packet))
}

// sendFinal sends frames that end the session (see pollingConn.sendFinal).
func (c *wsConn) sendFinal(frames ...frame) {
	c.t.Helper()
	c.sendFrames(frames...)
}

// sendFrames sends each frame as its own message.
func (c *wsConn) sendFrames(frames ...frame) {
	c.t.Helper()
	for _, fr := range frames {
		typ := websocket.TextMessage
		if fr.binary {
			typ = websocket.BinaryMessage
		}
		if err := c.c.SetWriteDeadline(time.Now().Add(waitTimeout)); err != nil {
			c.t.Fatalf("set write deadline: %v", err)
		}
		if err := c.c.WriteMessage(typ, []byte(fr.data)); err != nil {
			c.t.Fatalf("websocket write %v: %v", fr, err)
		}
	}
}

// expectClosed waits for the server to end the connection, failing on any
// frame but a ping. Pings are answered if answer is set, so that only the
// case under test can end the session, and left unanswered otherwise. The
// whole wait is bounded by waitTimeout.
func (c *wsConn) expectClosed(answer bool) {
	c.t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		fr, err := c.readBy(deadline)
		if err == nil {
			if fr != ping {
				c.t.Fatalf("waiting for close: got %v", fr)
			}
			if answer {
				c.sendFrames(pong)
			}
			continue
		}
		if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
			c.t.Fatal("waiting for close: the connection is still open")
		}
		return
	}
}

// pollingConn is a raw Engine.IO long-polling session that reads and
// writes frames as wsConn does, so that cases can run on both transports.
type pollingConn struct {
	t       *testing.T
	f       *testFixture
	url     string
	pending []frame // received, not yet read
}

// openPollingConn performs a polling handshake.
func (f *testFixture) openPollingConn(t *testing.T, m mount) *pollingConn {
	t.Helper()
	return &pollingConn{t: t, f: f, url: f.url(m, pollingQuery(f.openPolling(t, m)))}
}

// sendFrames POSTs the frames as one payload.
func (p *pollingConn) sendFrames(frames ...frame) {
	p.t.Helper()
	expectResponse(p.t, "POST", p.f.post(p.t, p.url, encodePayload(frames)), http.StatusOK, "ok")
}

// sendFinal POSTs frames that end the session. The server may do so while
// it handles the POST, so the answer is not checked: the reference server
// aborts the request, v3.0.5 answers 429, internal/engineio "ok".
func (p *pollingConn) sendFinal(frames ...frame) {
	_, _ = p.f.request(p.t.Context(), http.MethodPost, p.url, encodePayload(frames), nil)
}

func encodePayload(frames []frame) string {
	packets := make([]string, len(frames))
	for i, fr := range frames {
		if fr.binary {
			packets[i] = "b" + base64.StdEncoding.EncodeToString([]byte(fr.data))
		} else {
			packets[i] = fr.data
		}
	}
	return strings.Join(packets, recordSeparator)
}

// poll GETs one payload and decodes it.
func (p *pollingConn) poll() (frames []frame, status int) {
	p.t.Helper()
	res := p.f.get(p.t, p.url)
	if res.status != http.StatusOK {
		return nil, res.status
	}
	for packet := range strings.SplitSeq(res.body, recordSeparator) {
		b64, ok := strings.CutPrefix(packet, "b")
		if !ok {
			frames = append(frames, text(packet))
			continue
		}
		data, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			p.t.Fatalf("payload %q: binary packet: %v", res.body, err)
		}
		frames = append(frames, binary(data...))
	}
	return frames, res.status
}

// readSkippingPings returns the next packet that is not a ping, answering
// pings on the way.
func (p *pollingConn) readSkippingPings() frame {
	p.t.Helper()
	if len(p.pending) == 0 {
		p.pending = p.pollSkippingPings()
	}
	fr := p.pending[0]
	p.pending = p.pending[1:]
	return fr
}

// pollSkippingPings polls until a payload carries more than pings and
// returns the rest of it, answering the pings. The whole wait is bounded
// by waitTimeout (plus the last request's).
func (p *pollingConn) pollSkippingPings() []frame {
	p.t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		if time.Now().After(deadline) {
			p.t.Fatal("GET: only pings")
		}
		frames, status := p.poll()
		if status != http.StatusOK {
			p.t.Fatalf("GET: got status %d, want 200", status)
		}
		rest := slices.DeleteFunc(frames, func(fr frame) bool { return fr == ping })
		if len(rest) < len(frames) {
			p.sendFrames(pong)
		}
		if len(rest) > 0 {
			return rest
		}
	}
}

// expectClosed polls until the server ends the session, with a close
// packet or, if the session is already gone, a 400; as wsConn.expectClosed
// for pings and other packets.
func (p *pollingConn) expectClosed(answer bool) {
	p.t.Helper()
	if len(p.pending) > 0 {
		p.t.Fatalf("waiting for close: got %v", p.pending[0])
	}
	deadline := time.Now().Add(waitTimeout)
	for time.Now().Before(deadline) {
		frames, status := p.poll()
		if status == http.StatusBadRequest {
			return
		}
		if status != http.StatusOK {
			p.t.Fatalf("waiting for close: GET: got status %d", status)
		}
		for _, fr := range frames {
			switch fr {
			case text("1"):
				return
			case ping:
				if answer {
					p.sendFrames(pong)
				}
			default:
				p.t.Fatalf("waiting for close: got %v", fr)
			}
		}
	}
	p.t.Fatal("waiting for close: the session is still open")
}
