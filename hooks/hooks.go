// Package hooks serves Socket.IO namespaces whose logic lives in the app
// behind the server, not in Go: every connect, client event and disconnect
// of a hook namespace is a signed HTTP POST to the app's route handlers
// (a Next.js app's, through the TypeScript package's createHooksHandler,
// or any back end that speaks the protocol in docs/hooks.md), and the
// answer says what to do: accept or refuse, ack, join, leave, emit. The
// server keeps the sockets, rooms, fan-out, recovery, limits and
// scale-out.
//
// It is an application of package sockside, like any other: a hook
// namespace is a namespace whose handlers make HTTP calls.
package hooks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sockside/sockside"
	"github.com/sockside/sockside/config"
)

// Options configure the hooks; FromConfig takes them from the SOCKET_HOOKS_*
// settings.
type Options struct {
	// URL is the base URL of the app's hook handlers as the server reaches
	// them; the hooks are POSTed to URL/connect, URL/event, URL/disconnect.
	URL string
	// Secret signs every request (at least 32 bytes).
	Secret string
	// Namespaces are served by the hooks; empty: every namespace that no
	// Go code registers.
	Namespaces []string
	// Timeout bounds each hook request.
	Timeout time.Duration
	// MaxInFlight bounds the hook requests in flight at once; beyond it
	// events are answered "hooks unavailable" at once.
	MaxInFlight int
	// MaxAnswer bounds an answer's size in bytes.
	MaxAnswer int64
	// Logger receives a line for every failed hook (default: slog.Default()).
	Logger *slog.Logger
}

// FromConfig returns the Options the configuration sets.
func FromConfig(cfg config.Config) Options {
	return Options{
		URL: cfg.HooksURL, Secret: cfg.HooksSecret, Namespaces: cfg.HooksNamespaces,
		Timeout: cfg.HooksTimeout, MaxInFlight: cfg.HooksMaxInFlight, MaxAnswer: cfg.MaxPayload,
	}
}

// Unavailable is the error a client gets when a hook cannot be answered:
// the app is down, slow, overloaded or answered nonsense. Connects are
// refused with it (connect_error), events acked {ok: false, error}.
const Unavailable = "hooks unavailable"

// DisconnectByApp is what a socket receives when an event answer
// disconnects it.
var DisconnectByApp = sockside.Disconnect{Code: 4000, Reason: "disconnected by the application"}

// maxPendingPerSocket bounds the events of one socket waiting for the
// hooks (they go one at a time): more are acked "too many pending events".
const maxPendingPerSocket = 16

// Outcomes of a hook request, the "outcome" label of
// sockside_hook_requests_total.
const (
	outcomeOK         = "ok"         // answered, and the answer was applied
	outcomeRefused    = "refused"    // a connect answered {ok: false}
	outcomeError      = "error"      // no connection, or a status other than 2xx
	outcomeTimeout    = "timeout"    // no answer within the timeout
	outcomeBadAnswer  = "bad_answer" // not the JSON the hook expects
	outcomeTooLarge   = "too_large"  // an answer over MaxAnswer
	outcomeOverloaded = "overloaded" // MaxInFlight requests already in flight
)

// Hooks serves the hook namespaces of one server.
type Hooks struct {
	o        Options
	srv      *sockside.Server
	client   *http.Client
	slots    chan struct{} // one per request in flight
	log      *slog.Logger
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	mu       sync.Mutex
	closed   bool           // Close was called: no more disconnect hooks
	pending  sync.WaitGroup // disconnect hooks, sent in the background
}

// Register serves o's namespaces on srv through the hooks. Call it after
// registering the Go namespaces: with no namespace listed it takes every
// namespace those leave, "/" included when no Go code registered it.
func Register(srv *sockside.Server, o Options) (*Hooks, error) {
	if o.URL == "" || len(o.Secret) < 32 || o.Timeout <= 0 || o.MaxInFlight < 1 || o.MaxAnswer < 1 {
		return nil, errors.New("hooks: need a URL, a secret of at least 32 bytes, a timeout, MaxInFlight and MaxAnswer")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	h := &Hooks{
		o: o, srv: srv, log: o.Logger.With("component", "hooks"),
		slots: make(chan struct{}, o.MaxInFlight),
		client: &http.Client{Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			MaxIdleConnsPerHost: o.MaxInFlight, // keep-alive connections to the app, one per request in flight
			IdleConnTimeout:     90 * time.Second,
		}},
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sockside_hook_requests_total", Help: "Hook requests to the app by hook and outcome.",
		}, []string{"hook", "outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "sockside_hook_duration_seconds", Help: "Time from sending a hook request to its answer, by hook.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14), // 1 ms to 8 s
		}, []string{"hook"}),
	}
	inFlight := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "sockside_hook_requests_in_flight", Help: "Hook requests sent and not yet answered (at most SOCKET_HOOKS_MAX_IN_FLIGHT).",
	}, func() float64 { return float64(len(h.slots)) })
	for _, c := range []prometheus.Collector{h.requests, h.latency, inFlight} {
		if err := srv.Metrics().Register(c); err != nil {
			return nil, fmt.Errorf("hooks: metrics: %w", err)
		}
	}
	if len(o.Namespaces) == 0 {
		srv.ServeUnregistered(func(string) bool { return true }, h.setup)
		return h, nil
	}
	for _, name := range o.Namespaces {
		if _, ok := srv.Lookup(name); ok {
			return nil, fmt.Errorf("hooks: namespace %s is registered by Go code; take it out of SOCKET_HOOKS_NAMESPACES", name)
		}
		h.setup(srv.Namespace(name))
	}
	return h, nil
}

// Close waits for the disconnect hooks still being sent (each bounded by
// the timeout) and drops later ones; call it after the server has shut
// down.
func (h *Hooks) Close() {
	h.mu.Lock()
	h.closed = true
	h.mu.Unlock()
	h.pending.Wait()
}

func (h *Hooks) setup(n *sockside.Namespace) {
	n.SetHandlerQueue(maxPendingPerSocket)
	n.Use(func(r *sockside.ConnectRequest) error { return h.connect(n.Name(), r) })
	n.OnConnect(func(s *sockside.Socket) { s.Join(stateOf(s).join...) })
	sockside.HandleAny(n, func(s *sockside.Socket, e sockside.Event) ([]any, error) { return h.event(n, s, e) })
	n.OnDisconnect(h.disconnect)
}

// state is what the hooks keep as a socket's data: the app's data and the
// relay events from the connect answer. join is only needed until the
// socket has connected.
type state struct {
	Data  json.RawMessage `json:"data,omitempty"`
	Relay []string        `json:"relay,omitempty"`
	join  []string
}

// stateOf reads a socket's state; after a recovery through Redis it comes
// back decoded from JSON.
func stateOf(s *sockside.Socket) state {
	switch d := s.Data().(type) {
	case state:
		return d
	case nil:
		return state{}
	default:
		var st state
		if b, err := json.Marshal(d); err == nil {
			_ = json.Unmarshal(b, &st)
		}
		return st
	}
}

func (h *Hooks) connect(namespace string, r *sockside.ConnectRequest) error {
	hs := r.Handshake
	req := ConnectRequest{
		ID: RequestID(), Namespace: namespace, SID: r.SocketID, User: User{ID: r.User.ID, Name: r.User.Name},
		Handshake: Handshake{Auth: hs.Auth, Query: firstValues(hs.Query), Headers: forwardedHeaders(hs.Headers), Address: hs.Address, Time: hs.Time.UnixMilli()},
	}
	var ans ConnectAnswer
	outcome, err := h.call("connect", req, hs.Headers.Values("Cookie"), &ans)
	if err != nil {
		h.log.Warn("connect hook failed", "namespace", namespace, "sid", r.SocketID, "outcome", outcome, "err", err)
		return &sockside.ConnectError{Message: Unavailable}
	}
	if !ans.OK {
		h.requests.WithLabelValues("connect", outcomeRefused).Inc()
		var data any
		if len(ans.Data) > 0 {
			_ = json.Unmarshal(ans.Data, &data)
		}
		msg := ans.Error
		if msg == "" {
			msg = "refused"
		}
		return &sockside.ConnectError{Message: msg, Data: data}
	}
	h.requests.WithLabelValues("connect", outcomeOK).Inc()
	if ans.User != nil && ans.User.ID != "" {
		r.User = sockside.User{ID: ans.User.ID, Name: ans.User.Name}
	}
	r.Data = state{Data: ans.Data, Relay: ans.Relay, join: ans.Join}
	return nil
}

func (h *Hooks) event(n *sockside.Namespace, s *sockside.Socket, e sockside.Event) ([]any, error) {
	st := stateOf(s)
	if slices.Contains(st.Relay, e.Name) {
		return h.relay(n, s, e)
	}
	req := EventRequest{ID: RequestID(), SocketInfo: info(n.Name(), s, st, s.Rooms()), Event: e.Name, Args: encodeBinary(e.Args).([]any), Ack: e.WantsAck}
	var ans EventAnswer
	if outcome, err := h.call("event", req, nil, &ans); err != nil {
		h.log.Warn("event hook failed", "namespace", n.Name(), "sid", s.ID(), "event", e.Name, "outcome", outcome, "err", err)
		return nil, sockside.BadRequest(Unavailable)
	}
	h.requests.WithLabelValues("event", outcomeOK).Inc()
	s.Join(ans.Join...)
	for _, room := range ans.Leave {
		s.Leave(room)
	}
	if ans.Data != nil {
		st.Data = ans.Data
		s.SetData(st)
	}
	for _, em := range ans.Emit {
		if err := h.emit(n, em); err != nil {
			s.Log().Warn("hook answer's emit failed", "event", em.Event, "err", err)
		}
	}
	if ans.Disconnect {
		s.Disconnect(DisconnectByApp) // after this handler's ack
	}
	ack := make([]any, len(ans.Ack))
	for i, a := range ans.Ack {
		ack[i] = decodeBinary(a)
	}
	return ack, nil
}

// relay rebroadcasts a relay event to the sender's rooms, but the sender,
// without the app (typing indicators, cursors); the rate limit applies as
// to any event.
func (h *Hooks) relay(n *sockside.Namespace, s *sockside.Socket, e sockside.Event) ([]any, error) {
	if rooms := s.Rooms(); len(rooms) > 0 {
		if err := n.To(rooms...).Except(s.ID()).Emit(e.Name, e.Args...); err != nil {
			return nil, err
		}
	}
	return []any{map[string]bool{"ok": true}}, nil
}

func (h *Hooks) emit(from *sockside.Namespace, em Emit) error {
	n := from
	if em.Namespace != "" && em.Namespace != from.Name() {
		var ok bool
		if n, ok = h.srv.Lookup(em.Namespace); !ok {
			return nil // nobody connected to it yet: nobody to reach
		}
	}
	args := make([]any, len(em.Args))
	for i, a := range em.Args {
		args[i] = decodeBinary(a)
	}
	switch {
	case len(em.To) > 0:
		return n.To(em.To...).Except(em.Except...).Emit(em.Event, args...)
	case len(em.Except) > 0:
		return n.Except(em.Except...).Emit(em.Event, args...)
	default:
		return n.Emit(em.Event, args...)
	}
}

func (h *Hooks) disconnect(s *sockside.Socket, reason string, rooms []string) {
	req := DisconnectRequest{ID: RequestID(), SocketInfo: info(s.Namespace(), s, stateOf(s), rooms), Reason: reason}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	h.pending.Add(1)
	go func() {
		defer h.pending.Done()
		if outcome, err := h.call("disconnect", req, nil, nil); err != nil {
			h.log.Debug("disconnect hook failed", "namespace", req.Namespace, "sid", req.SID, "outcome", outcome, "err", err)
			return
		}
		h.requests.WithLabelValues("disconnect", outcomeOK).Inc()
	}()
}

// info describes s to the app; rooms are passed in because a socket that
// has left is in none any more (the disconnect hook gets the ones it was
// in).
func info(namespace string, s *sockside.Socket, st state, rooms []string) SocketInfo {
	data := st.Data
	if data == nil {
		data = json.RawMessage("null")
	}
	if rooms == nil {
		rooms = []string{}
	}
	return SocketInfo{Namespace: namespace, SID: s.ID(), User: User{ID: s.User().ID, Name: s.User().Name}, Data: data, Rooms: rooms}
}

// call POSTs body to the hook and decodes the answer into answer (nil: the
// answer is ignored). On failure it counts the outcome and returns it with
// the error; success is counted by the caller, which knows what the answer
// meant.
func (h *Hooks) call(hook string, body any, cookies []string, answer any) (string, error) {
	select {
	case h.slots <- struct{}{}:
		defer func() { <-h.slots }()
	default:
		h.requests.WithLabelValues(hook, outcomeOverloaded).Inc()
		return outcomeOverloaded, fmt.Errorf("%d hook requests in flight", h.o.MaxInFlight)
	}
	outcome, err := h.post(hook, body, cookies, answer)
	if err != nil {
		h.requests.WithLabelValues(hook, outcome).Inc()
	}
	return outcome, err
}

func (h *Hooks) post(hook string, body any, cookies []string, answer any) (string, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return outcomeError, fmt.Errorf("encoding the %s request: %w", hook, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), h.o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(h.o.URL, "/")+"/"+hook, bytes.NewReader(raw))
	if err != nil {
		return outcomeError, err
	}
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderVersion, Version)
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderSignature, Sign([]byte(h.o.Secret), ts, raw))
	if len(cookies) > 0 {
		req.Header.Set("Cookie", strings.Join(cookies, "; "))
	}
	start := time.Now()
	res, err := h.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return outcomeTimeout, fmt.Errorf("no answer within %s", h.o.Timeout)
		}
		return outcomeError, err
	}
	defer res.Body.Close()
	got, err := io.ReadAll(io.LimitReader(res.Body, h.o.MaxAnswer+1))
	h.latency.WithLabelValues(hook).Observe(time.Since(start).Seconds())
	switch {
	case ctx.Err() != nil:
		return outcomeTimeout, fmt.Errorf("no answer within %s", h.o.Timeout)
	case err != nil:
		return outcomeError, fmt.Errorf("reading the answer: %w", err)
	case res.StatusCode < 200 || res.StatusCode > 299:
		return outcomeError, fmt.Errorf("HTTP %d: %.200s", res.StatusCode, got)
	case int64(len(got)) > h.o.MaxAnswer:
		return outcomeTooLarge, fmt.Errorf("answer over %d bytes", h.o.MaxAnswer)
	case answer == nil:
		return outcomeOK, nil
	}
	if err := json.Unmarshal(got, answer); err != nil {
		return outcomeBadAnswer, fmt.Errorf("answer is not the JSON the %s hook expects: %w", hook, err)
	}
	return outcomeOK, nil
}

// firstValues flattens a query string to its first values.
func firstValues(q map[string][]string) map[string]string {
	out := make(map[string]string, len(q))
	for k, v := range q {
		if len(v) > 0 {
			out[k] = v[0]
		}
	}
	return out
}

// notForwarded are the handshake headers the hooks leave out: the cookie
// (sent as the request's own), credentials, and what only concerned the
// connection to the server.
var notForwarded = map[string]bool{
	"cookie": true, "authorization": true, "connection": true, "upgrade": true, "keep-alive": true,
	"transfer-encoding": true, "te": true, "content-length": true, "content-type": true,
	"sec-websocket-key": true, "sec-websocket-version": true, "sec-websocket-extensions": true, "sec-websocket-protocol": true,
}

func forwardedHeaders(hdr http.Header) map[string]string {
	out := make(map[string]string, len(hdr))
	for k, v := range hdr {
		if k = strings.ToLower(k); !notForwarded[k] && len(v) > 0 {
			out[k] = strings.Join(v, ", ")
		}
	}
	return out
}
