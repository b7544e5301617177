package engineio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	engine "github.com/zishang520/socket.io/servers/engine/v3"
	"github.com/zishang520/socket.io/servers/engine/v3/config"
	"github.com/zishang520/socket.io/servers/engine/v3/transports"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

const (
	// The heartbeat race only bites when pingTimeout < pingInterval (as
	// with the defaults, 25 s / 20 s): otherwise the next ping clears the
	// stale timer first. Generous values keep the tests independent of
	// machine load; the client gets pingTimeout - testPingSettle to answer.
	testPingInterval = 800 * time.Millisecond
	testPingTimeout  = 500 * time.Millisecond
	testPingSettle   = 200 * time.Millisecond
	// pingWait bounds the wait for the next ping.
	pingWait = testPingInterval + testPingSettle + testPingTimeout

	// hangAfter is how long a response may take before it counts as never
	// coming. The fixed transports answer within milliseconds.
	hangAfter = 1500 * time.Millisecond

	// waitLimit bounds every other wait in the tests.
	waitLimit = 5 * time.Second
)

// variant is one server setup a scenario runs against.
type variant struct {
	name string
	// fixed says whether the scenario must pass (our transports) or must
	// show the v3.0.5 defect (the library's defaults).
	fixed bool
	set   func() *types.Set[transports.TransportCtor]
	// handler puts Handler in front of the engine.
	handler bool
}

func librarySet() *types.Set[transports.TransportCtor] {
	return types.NewSet[transports.TransportCtor](engine.Polling, engine.WebSocket)
}

var (
	fixedVariant   = variant{name: "fixed", fixed: true, set: func() *types.Set[transports.TransportCtor] { return newTransports(testPingSettle, Options{}) }, handler: true}
	libraryVariant = variant{name: "library-v3.0.5", set: librarySet}
	variants       = []variant{fixedVariant, libraryVariant}
)

func (v variant) config() serverConfig {
	return serverConfig{transports: v.set(), handler: v.handler, pingInterval: testPingInterval, pingTimeout: testPingTimeout}
}

// quiet keeps the heartbeat out of a test's way.
func quiet(cfg serverConfig) serverConfig {
	cfg.pingInterval, cfg.pingTimeout = time.Minute, time.Minute
	return cfg
}

// runVariants runs scenario against each variant. On the fixed transports
// it must succeed; on the library's it must fail, which proves the
// scenario detects the defect and flags when an upgrade has fixed it.
func runVariants(t *testing.T, scenario func(t *testing.T, v variant) error) {
	t.Helper()
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			err := scenario(t, v)
			switch {
			case v.fixed && err != nil:
				t.Fatalf("fixed transports: %v", err)
			case !v.fixed && err == nil:
				t.Fatalf("the library's transports no longer show the defect; re-check the workaround")
			case !v.fixed:
				t.Logf("defect reproduced on the library's transports: %v", err)
			}
		})
	}
}

type testServer struct {
	t     *testing.T
	url   string // http://host/engine.io/
	eng   engine.Server
	hs    *httptest.Server
	http  *http.Client
	conns chan engine.Socket

	mu         sync.Mutex
	polls      []*types.HttpContext // every long-polling GET the engine saw
	parkedGets int
	asyncs     []*asyncResponse
	// aborts cancels, by the value of an "abort" query parameter, the
	// request context the engine sees, as a client abort would.
	aborts map[string]context.CancelCauseFunc
	// requests are the original contexts of requests tagged probe=id.
	requests map[string]context.Context
}

type serverConfig struct {
	transports   *types.Set[transports.TransportCtor]
	handler      bool
	pingInterval time.Duration
	pingTimeout  time.Duration
}

func newTestServer(t *testing.T, cfg serverConfig) *testServer {
	t.Helper()
	opts := config.DefaultServerOptions()
	opts.SetPingInterval(cfg.pingInterval)
	opts.SetPingTimeout(cfg.pingTimeout)
	if cfg.transports != nil {
		opts.SetTransports(cfg.transports)
	}
	eng := engine.NewServer(opts)

	s := &testServer{
		t: t, eng: eng, conns: make(chan engine.Socket, 64),
		aborts: map[string]context.CancelCauseFunc{}, requests: map[string]context.Context{},
	}
	eng.Use(func(ctx *types.HttpContext, next func(error)) {
		if ctx.Method() == http.MethodGet && !websocket.IsWebSocketUpgrade(ctx.Request()) {
			s.mu.Lock()
			s.polls = append(s.polls, ctx)
			s.mu.Unlock()
		}
		next(nil)
	})
	_ = eng.On("connection", func(a ...any) {
		es := a[0].(engine.Socket)
		// Runs on the handler goroutine right after the library parked a
		// GET (and wrote its ctx.Cleanup); the lock orders that write
		// before releaseParked.
		_ = es.Transport().On("ready", func(...any) {
			s.mu.Lock()
			s.parkedGets++
			s.mu.Unlock()
		})
		select {
		case s.conns <- es:
		default:
			t.Errorf("too many unclaimed engine sockets")
		}
	})

	if cfg.handler {
		Attach(eng) // the fixed setup: after the application's listener above
	}
	var h http.Handler = eng
	if cfg.handler {
		h = Handler(h)
	}
	mux := http.NewServeMux()
	mux.Handle("/engine.io/", s.abortable(h))
	s.hs = httptest.NewServer(mux)
	s.url = s.hs.URL + "/engine.io/"
	s.http = s.hs.Client()

	t.Cleanup(s.close)
	return s
}

// close shuts the server down without aborting a parked GET from the
// client side: with the library's transports that would trip the v3.0.5
// data race on ctx.Cleanup (see watchPoll) and fail unrelated
// tests under -race. GETs the library never answers are finished from the
// server side instead.
func (s *testServer) close() {
	s.eng.Close()
	s.releaseParked()
	s.mu.Lock()
	asyncs := s.asyncs
	s.mu.Unlock()
	for _, a := range asyncs {
		if _, ok := a.wait(waitLimit); !ok {
			s.t.Errorf("request still running %v after the server released it", waitLimit)
		}
		a.cancel()
	}
	s.hs.Close()
}

// abortable lets the test cancel a request in-process (see abort), which,
// unlike a client-side abort, is ordered after what the test observed.
func (s *testServer) abortable(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id := r.URL.Query().Get("probe"); id != "" {
			s.mu.Lock()
			s.requests[id] = r.Context()
			s.mu.Unlock()
		}
		id := r.URL.Query().Get("abort")
		if id == "" {
			next.ServeHTTP(w, r)
			return
		}
		ctx, cancel := context.WithCancelCause(context.WithoutCancel(r.Context()))
		defer cancel(nil)
		s.mu.Lock()
		s.aborts[id] = cancel
		s.mu.Unlock()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// request returns the original context of the request tagged probe=id.
func (s *testServer) request(id string) context.Context {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[id]
}

// abort cancels the request tagged abort=id as if its client had gone.
func (s *testServer) abort(id string) {
	s.mu.Lock()
	cancel := s.aborts[id]
	s.mu.Unlock()
	cancel(errors.New("client went away"))
}

// releaseParked ends every long-polling GET still waiting for an answer,
// with an empty 200.
func (s *testServer) releaseParked() {
	s.mu.Lock()
	polls := s.polls
	s.mu.Unlock()
	for _, ctx := range polls {
		if !ctx.IsDone() {
			ctx.Flush()
		}
	}
}

// socket waits for the engine socket of session sid.
func (s *testServer) socket(ctx context.Context, sid string) (engine.Socket, error) {
	for {
		select {
		case es := <-s.conns:
			if es.Id() == sid {
				return es, nil
			}
		case <-ctx.Done():
			return nil, fmt.Errorf("no engine socket for %s: %w", sid, ctx.Err())
		}
	}
}

type response struct {
	status int
	body   string
	err    error
	took   time.Duration
}

func (r response) String() string {
	if r.err != nil {
		return fmt.Sprintf("error %v after %v", r.err, r.took.Round(time.Millisecond))
	}
	return fmt.Sprintf("%d %q after %v", r.status, r.body, r.took.Round(time.Millisecond))
}

func (s *testServer) do(ctx context.Context, method, query, body string) response {
	start := time.Now()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.url+"?EIO=4&"+query, rd)
	if err != nil {
		return response{err: err}
	}
	if body != "" {
		req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	}
	res, err := s.http.Do(req)
	if err != nil {
		return response{err: err, took: time.Since(start)}
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return response{status: res.StatusCode, body: string(b), err: err, took: time.Since(start)}
}

// doWithin issues a request that is expected to be answered at once;
// anything that may be parked must use start instead.
func (s *testServer) doWithin(limit time.Duration, method, query, body string) response {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	return s.do(ctx, method, query, body)
}

// asyncResponse is a request running in the background; wait collects it.
type asyncResponse struct {
	ch     chan response
	cancel context.CancelFunc
}

// start issues a request in the background. It is never cancelled before
// the server's cleanup has released it (see testServer.close).
func (s *testServer) start(method, query, body string) *asyncResponse {
	ctx, cancel := context.WithCancel(context.Background())
	a := &asyncResponse{ch: make(chan response, 1), cancel: cancel}
	s.mu.Lock()
	s.asyncs = append(s.asyncs, a)
	s.mu.Unlock()
	go func() { a.ch <- s.do(ctx, method, query, body) }()
	return a
}

// poll issues a GET that may be parked and returns its answer, or an error
// if none came within hangAfter.
func (s *testServer) poll(query string) (response, error) {
	a := s.start(http.MethodGet, query, "")
	r, ok := a.wait(hangAfter)
	if !ok {
		return r, fmt.Errorf("GET not answered within %v", hangAfter)
	}
	return r, nil
}

// wait returns the response, or ok=false if it did not come within limit.
func (a *asyncResponse) wait(limit time.Duration) (response, bool) {
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case r := <-a.ch:
		a.ch <- r // keep it for later waits
		return r, true
	case <-t.C:
		return response{}, false
	}
}

type handshake struct {
	Sid          string   `json:"sid"`
	Upgrades     []string `json:"upgrades"`
	PingInterval int      `json:"pingInterval"`
	PingTimeout  int      `json:"pingTimeout"`
}

func parseOpen(body string) (handshake, error) {
	var h handshake
	if !strings.HasPrefix(body, "0") {
		return h, fmt.Errorf("not an open packet: %q", body)
	}
	if err := json.Unmarshal([]byte(body[1:]), &h); err != nil {
		return h, fmt.Errorf("open packet %q: %w", body, err)
	}
	return h, nil
}

// session is a long-polling session opened by the test.
type session struct {
	sid string
	es  engine.Socket
	// parked fires each time the engine parks a GET of this session.
	parked chan struct{}
	// closed receives the engine socket's close reason.
	closed chan string
}

func (s *testServer) openPolling(t *testing.T) *session {
	t.Helper()
	r := s.doWithin(waitLimit, http.MethodGet, "transport=polling", "")
	if r.err != nil || r.status != http.StatusOK {
		t.Fatalf("handshake: %v", r)
	}
	h, err := parseOpen(r.body)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	es, err := s.socket(ctx, h.Sid)
	if err != nil {
		t.Fatal(err)
	}
	return watch(h.Sid, es)
}

func watch(sid string, es engine.Socket) *session {
	ss := &session{sid: sid, es: es, parked: make(chan struct{}, 16), closed: make(chan string, 1)}
	// The polling transport emits "ready" once it has parked a GET.
	_ = es.Transport().On("ready", func(...any) {
		select {
		case ss.parked <- struct{}{}:
		default:
		}
	})
	_ = es.On("close", func(a ...any) {
		reason, _ := a[0].(string)
		ss.closed <- reason
	})
	return ss
}

func (ss *session) query() string { return "transport=polling&sid=" + ss.sid }

func waitFor[T any](ch <-chan T, limit time.Duration, what string) (T, error) {
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case v := <-ch:
		return v, nil
	case <-t.C:
		var zero T
		return zero, fmt.Errorf("%s: nothing within %v", what, limit)
	}
}

// wsClient is a raw Engine.IO websocket client.
type wsClient struct {
	conn   *websocket.Conn
	frames chan string
	done   chan struct{}
	err    error
}

func (s *testServer) dialWS(t *testing.T, query string) *wsClient {
	t.Helper()
	u := "ws" + strings.TrimPrefix(s.url, "http") + "?EIO=4&transport=websocket"
	if query != "" {
		u += "&" + query
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	conn, _, err := websocket.DefaultDialer.DialContext(ctx, u, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", u, err)
	}
	c := &wsClient{conn: conn, frames: make(chan string, 64), done: make(chan struct{})}
	go c.readLoop()
	t.Cleanup(func() {
		_ = conn.Close()
		<-c.done
	})
	return c
}

func (c *wsClient) readLoop() {
	defer close(c.done)
	for {
		_, b, err := c.conn.ReadMessage()
		if err != nil {
			c.err = err
			return
		}
		select {
		case c.frames <- string(b):
		default:
			c.err = errors.New("frame buffer full")
			return
		}
	}
}

// next returns the next frame, or an error if the connection ended or
// nothing came within limit.
func (c *wsClient) next(limit time.Duration) (string, error) {
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case f := <-c.frames:
		return f, nil
	case <-c.done:
		select {
		case f := <-c.frames:
			return f, nil
		default:
		}
		return "", fmt.Errorf("connection ended: %w", c.err)
	case <-t.C:
		return "", fmt.Errorf("no frame within %v", limit)
	}
}

func (c *wsClient) send(s string) error {
	return c.conn.WriteMessage(websocket.TextMessage, []byte(s))
}
