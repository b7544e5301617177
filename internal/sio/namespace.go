package sio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sockside/sockside/internal/auth"
	"github.com/sockside/sockside/internal/metrics"
	"github.com/sockside/sockside/internal/ratelimit"
	"github.com/sockside/sockside/internal/socketio"
)

// EventSpec describes one event of a namespace: its name, the Go type of its
// payload (nil for "any arguments") and, for client events, of its ack.
type EventSpec struct {
	Name    string
	Payload reflect.Type
	Ack     reflect.Type
}

// Namespace is a Socket.IO namespace with typed handlers.
type Namespace struct {
	// Ext is the layer above's handle of this namespace, set by setup
	// (NamespaceWith) before clients can reach it.
	Ext any

	srv          *Server
	io           *socketio.Namespace
	name         string
	handlers     []handler           // in registration order
	byName       map[string]*handler // the same, by event name
	serverEvents []EventSpec
	middlewares  []func(*ConnectRequest) error
	fallback     func(c *Client, event string, args []any, wantsAck bool) ([]any, error)
	queue        int // > 0: handlers run off the reader, at most this many pending per socket
	onConnect    []func(*Client)
	onDisconnect []func(*Client, string, []string)
	roomKey      func(string) string

	// The namespace's per-event counters, resolved once: a label lookup
	// hashes its values, a cost per event the hot path need not pay.
	eventsIn, eventsOut prometheus.Counter
}

type handler struct {
	spec EventSpec
	fn   func(c *Client, args []any) ([]any, error)
}

// Namespace creates and registers the namespace name ("/", "/chat"), or
// returns it when it exists. Register handlers and hooks before the server
// starts serving.
func (s *Server) Namespace(name string) *Namespace { return s.NamespaceWith(name, nil) }

// NamespaceWith is Namespace with setup run on a new namespace before
// clients can reach it, for namespaces created while serving.
func (s *Server) NamespaceWith(name string, setup func(*Namespace)) *Namespace {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n, ok := s.namespaces[name]; ok {
		return n
	}
	n := &Namespace{
		srv: s, name: name, byName: map[string]*handler{},
		eventsIn:  s.metrics.EventsIn.WithLabelValues(name),
		eventsOut: s.metrics.EventsOut.WithLabelValues(name),
	}
	// Every namespace may send these two; declaring them puts them in the
	// generated TypeScript event maps.
	Emits[Disconnect](n, DisconnectEvent)
	Emits[struct{}](n, OffsetEvent)
	if setup != nil {
		setup(n)
	}
	n.io = s.io.Of(name)
	n.io.SetHooks(socketio.Hooks{
		Admit:        n.identify,
		Connected:    n.connect,
		Event:        n.event,
		Disconnected: n.disconnected,
		Upgraded:     func(so *socketio.Socket) { clientOf(so).setTransport(so.Session().Transport()) },
	})
	s.namespaces[name] = n
	s.order = append(s.order, n)
	return n
}

// MaxFallbackNamespaces bounds the namespaces SetFallback creates, so that
// clients asking for made-up names cannot grow the server without bound.
const MaxFallbackNamespaces = 1000

// fallback creates the namespaces SetFallback serves. Lock order: fallback.mu
// before Server.mu (NamespaceWith), never the other way.
type fallback struct {
	mu      sync.Mutex // one creation at a time, so setup never races a connect
	accept  func(name string) bool
	setup   func(*Namespace)
	created int
}

// SetFallback serves namespaces nobody registered: when a client asks for
// one (or Resolve is called for it) and accept(name) agrees, it is created
// with setup (once; it stays registered). At most MaxFallbackNamespaces are
// created.
func (s *Server) SetFallback(accept func(name string) bool, setup func(*Namespace)) {
	s.fallback.mu.Lock()
	s.fallback.accept, s.fallback.setup = accept, setup
	s.fallback.mu.Unlock()
}

// Resolve returns the namespace name is served by: a registered one, or one
// the fallback accepts, created now if it does not exist yet (so that an
// emit reaches a fallback namespace's sockets on other nodes before any
// socket connected to it here).
func (s *Server) Resolve(name string) (*Namespace, bool) {
	if n, ok := s.Lookup(name); ok {
		return n, true
	}
	f := &s.fallback
	f.mu.Lock()
	defer f.mu.Unlock()
	if n, ok := s.Lookup(name); ok {
		return n, true
	}
	if f.accept == nil || !f.accept(name) {
		return nil, false
	}
	if f.created >= MaxFallbackNamespaces {
		s.log.Warn("namespace refused: too many created for unknown names", "namespace", name, "limit", MaxFallbackNamespaces)
		return nil, false
	}
	f.created++
	return s.NamespaceWith(name, f.setup), true
}

// Name is the namespace's name, e.g. "/chat".
func (n *Namespace) Name() string { return n.name }

// ClientEvents lists the events clients may send, in registration order.
func (n *Namespace) ClientEvents() []EventSpec {
	specs := make([]EventSpec, len(n.handlers))
	for i, h := range n.handlers {
		specs[i] = h.spec
	}
	return specs
}

// ServerEvents lists the events the server emits, in declaration order.
func (n *Namespace) ServerEvents() []EventSpec { return append([]EventSpec(nil), n.serverEvents...) }

// OnConnect adds a hook run for every connected socket.
func (n *Namespace) OnConnect(fn func(*Client)) { n.onConnect = append(n.onConnect, fn) }

// OnDisconnect adds a hook run when a socket has left, with the reason and
// the rooms it was in (its own id room excluded).
func (n *Namespace) OnDisconnect(fn func(c *Client, reason string, rooms []string)) {
	n.onDisconnect = append(n.onDisconnect, fn)
}

// SetRoomKey maps public room names (as the emit API receives them) to the
// adapter rooms the namespace uses, so namespaces can keep their rooms apart
// from the per-socket id rooms.
func (n *Namespace) SetRoomKey(fn func(string) string) { n.roomKey = fn }

// PublicRoom is the adapter room the public room name stands for (see
// SetRoomKey).
func (n *Namespace) PublicRoom(name string) string {
	if n.roomKey == nil {
		return name
	}
	return n.roomKey(name)
}

// ConnectRequest is what a connect middleware sees of a socket that is not
// connected yet: the socket (for its id and handshake) and the user the
// server's own auth established, which the middleware may replace.
type ConnectRequest struct {
	Socket *socketio.Socket
	User   auth.User
	Data   any // the application's data for the socket (see Client.Data)
}

// ConnectError refuses a connect: the client's connect_error carries
// Message as its message and Data as its data.
type ConnectError struct {
	Message string
	Data    any
}

func (e *ConnectError) Error() string { return e.Message }

// Use adds a connect middleware, run in order after the server's own auth.
// An error refuses the connect: a *ConnectError as it says, anything else
// as "internal error" (logged).
func (n *Namespace) Use(fn func(*ConnectRequest) error) { n.middlewares = append(n.middlewares, fn) }

// Handle registers a client event whose first argument decodes into Req and
// whose ack carries the returned Ack. A returned error is sent as
// `{ok:false, error}`; RequestError texts go to the client verbatim, any
// other error is logged and reported as "internal error".
func Handle[Req, Ack any](n *Namespace, event string, fn func(c *Client, req Req) (Ack, error)) {
	n.addHandler(EventSpec{Name: event, Payload: reflect.TypeFor[Req](), Ack: reflect.TypeFor[Ack]()},
		func(c *Client, args []any) ([]any, error) {
			var req Req
			if err := decodeArg(args, &req); err != nil {
				return nil, err
			}
			ack, err := fn(c, req)
			if err != nil {
				return nil, err
			}
			return []any{ack}, nil
		})
}

// HandleRaw registers a client event that takes and acks arbitrary arguments
// (binary included, as []byte).
func HandleRaw(n *Namespace, event string, fn func(c *Client, args []any) ([]any, error)) {
	n.addHandler(EventSpec{Name: event}, fn)
}

// HandleAny registers the handler of every client event that no Handle or
// HandleRaw names, told whether the client asked for an ack; without one
// such events are refused ("unknown event").
func HandleAny(n *Namespace, fn func(c *Client, event string, args []any, wantsAck bool) ([]any, error)) {
	n.fallback = fn
}

// SetQueue runs the namespace's handlers off the connection's reader, on a
// queue of their own per socket (still one at a time, in order), so that
// slow handlers hold up neither the connection's other namespaces nor its
// heartbeat. At most max events wait per socket; more are refused.
func (n *Namespace) SetQueue(max int) { n.queue = max }

func (n *Namespace) addHandler(spec EventSpec, fn func(*Client, []any) ([]any, error)) {
	if _, ok := n.byName[spec.Name]; ok {
		panic(fmt.Sprintf("sio: event %q registered twice on %s", spec.Name, n.name))
	}
	n.handlers = append(n.handlers, handler{spec: spec, fn: fn})
	n.byName[spec.Name] = &handler{spec: spec, fn: fn}
}

// Emitter sends one declared server-to-client event with a typed payload.
type Emitter[T any] struct {
	n    *Namespace
	name string
}

// Emits declares a server-to-client event carrying T.
func Emits[T any](n *Namespace, event string) Emitter[T] {
	n.serverEvents = append(n.serverEvents, EventSpec{Name: event, Payload: reflect.TypeFor[T]()})
	return Emitter[T]{n: n, name: event}
}

// ToAll sends v to every socket of the namespace (on every node).
func (e Emitter[T]) ToAll(v T) { e.emit(e.n.io.Emit(socketio.Broadcast{}, e.name, v)) }

// ToRoom sends v to every socket in room.
func (e Emitter[T]) ToRoom(room string, v T) {
	e.emit(e.n.io.Emit(socketio.Broadcast{Rooms: []string{room}}, e.name, v))
}

// ToRoomExcept sends v to every socket in room but c.
func (e Emitter[T]) ToRoomExcept(c *Client, room string, v T) {
	e.emit(e.n.io.Emit(socketio.Broadcast{Rooms: []string{room}, Except: []string{c.ID()}}, e.name, v))
}

// ToClient sends v to c alone.
func (e Emitter[T]) ToClient(c *Client, v T) { e.emit(c.sock.Emit(e.name, v)) }

func (e Emitter[T]) emit(err error) {
	if err != nil {
		e.n.srv.log.Error("emit failed", "namespace", e.n.name, "event", e.name, "err", err)
		return
	}
	e.n.eventsOut.Inc()
}

// EmitRaw sends an undeclared event to the namespace, or to room when it is
// not empty.
func (n *Namespace) EmitRaw(room, event string, args ...any) error {
	var b socketio.Broadcast
	if room != "" {
		b.Rooms = []string{room}
	}
	if err := n.io.Emit(b, event, args...); err != nil {
		return fmt.Errorf("emit %q to %s: %w", event, n.name, err)
	}
	n.eventsOut.Inc()
	return nil
}

// Broadcast sends an event to the sockets in rooms (all of the namespace
// when rooms is empty) but those in except, on every node. Socket ids name
// rooms too (each socket is in the room of its id).
func (n *Namespace) Broadcast(rooms, except []string, event string, args ...any) error {
	if err := n.io.Emit(socketio.Broadcast{Rooms: rooms, Except: except}, event, args...); err != nil {
		return fmt.Errorf("emit %q to %s: %w", event, n.name, err)
	}
	n.eventsOut.Inc()
	return nil
}

// membersTimeout bounds a cluster-wide member count.
const membersTimeout = 5 * time.Second

// Members counts the sockets in room across every node.
func (n *Namespace) Members(room string) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), membersTimeout)
	defer cancel()
	count, err := n.io.CountSockets(ctx, socketio.Broadcast{Rooms: []string{room}})
	if err != nil {
		return count, fmt.Errorf("counting members of %q: %w", room, err)
	}
	return count, nil
}

// Count is the number of sockets connected to the namespace on this node.
func (n *Namespace) Count() int { return n.io.Count() }

// Client is one connected socket with its identity.
type Client struct {
	User auth.User
	// Ext is the layer above's handle of this socket, set by its first
	// OnConnect hook, before any handler of the socket runs.
	Ext any

	sock    *socketio.Socket
	ns      *Namespace
	limiter *ratelimit.Limiter

	mu        sync.Mutex
	transport string
	gone      bool
	app       any // the application's data, also stored with the identity
	kicked    atomic.Bool

	// A Kick while one of the socket's handlers runs (handling) waits in
	// deferred until that handler has answered. Atomics: this is on every
	// event's path.
	handling atomic.Bool
	deferred atomic.Pointer[Disconnect]

	queueMu sync.Mutex
	pending []queued // events waiting for the queue's worker (Namespace.SetQueue)
	working bool     // a worker drains pending
}

type queued struct {
	h    *handler
	args []any
	ack  func(...any) error
}

// clientOf is the Client of a socket the namespace connected.
func clientOf(s *socketio.Socket) *Client { return s.Value().(*Client) }

// ID is the socket's id.
func (c *Client) ID() string { return c.sock.ID() }

// Namespace is the socket's namespace name.
func (c *Client) Namespace() string { return c.ns.name }

// Socket is the Socket.IO socket beneath (its handshake, its session).
func (c *Client) Socket() *socketio.Socket { return c.sock }

// Connected reports whether the socket is still in its namespace.
func (c *Client) Connected() bool { return c.sock.Connected() }

// Recovered reports whether connection state recovery restored the socket.
func (c *Client) Recovered() bool { return c.sock.Recovered() }

// Rooms lists the rooms the socket joined, sorted, without its own id's.
func (c *Client) Rooms() []string { return c.sock.Rooms() }

// In reports whether the socket is in room.
func (c *Client) In(room string) bool { return c.sock.In(room) }

// Join puts the socket in rooms (on this node; broadcasts reach it from
// every node).
func (c *Client) Join(rooms ...string) { c.sock.Join(rooms...) }

// Leave takes the socket out of room.
func (c *Client) Leave(room string) { c.sock.Leave(room) }

// Emit sends an event to this socket alone.
func (c *Client) Emit(event string, args ...any) error { return c.sock.Emit(event, args...) }

// Data is the application's data for the socket: what a connect
// middleware or SetData stored. It survives a connection state recovery
// (coming back decoded from JSON when the session was stored elsewhere).
func (c *Client) Data() any {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.app
}

// SetData replaces the application's data for the socket.
func (c *Client) SetData(v any) {
	c.mu.Lock()
	c.app = v
	c.mu.Unlock()
	c.sock.SetData(identity{User: c.User, App: v})
}

// Transport is the socket's current transport ("polling", "websocket").
func (c *Client) Transport() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.transport
}

// Log is the server logger with the socket's identity attached.
func (c *Client) Log() *slog.Logger {
	return c.ns.srv.log.With("namespace", c.ns.name, "sid", c.ID(), "user", c.User.ID)
}

// kickGrace is how long a kicked socket has to close its side before the
// server removes it.
const kickGrace = 2 * time.Second

// Kick tells the client why (a "disconnect-reason" event), sends it the
// namespace disconnect and drops whatever it sends after that. The socket
// is removed only after kickGrace: an event for a namespace the connection
// is not in closes the whole connection, so removing it at once would cut
// the connection on the next packet the client had already sent, maybe
// before the reason and the disconnect reach it. socket.io-client does not
// reconnect after a server-side disconnect, which is what a kick means.
//
// During one of the socket's handlers (say, the handler itself kicks), the
// kick waits until that handler's ack has been sent.
func (c *Client) Kick(d Disconnect) {
	if c.handling.Load() {
		c.deferred.CompareAndSwap(nil, &d)
		// The handler may have ended before the store: then carry it out
		// here (whoever swaps it out first does).
		if c.handling.Load() {
			return
		}
		p := c.deferred.Swap(nil)
		if p == nil {
			return
		}
		d = *p
	}
	if !c.Connected() || !c.kicked.CompareAndSwap(false, true) {
		return
	}
	c.ns.srv.metrics.Dropped.WithLabelValues(d.Label).Inc()
	c.Log().Warn("disconnecting socket", "code", d.Code, "reason", d.Reason)
	_ = c.sock.Emit(DisconnectEvent, d)
	c.sock.DisconnectAfter(kickGrace)
}

// identify is the namespace's Admit: it refuses connects while draining
// and establishes the user, from a verified JWT or, with auth off, from the
// name the client offers.
func (n *Namespace) identify(s *socketio.Socket) error {
	srv := n.srv
	if srv.draining.Load() {
		srv.metrics.Rejected.WithLabelValues(metrics.RejectDraining).Inc()
		return &socketio.ConnectError{Message: "server draining", Data: map[string]any{"code": 503, "reason": ErrDraining.Error()}}
	}
	hsAuth := s.Auth()
	req := &ConnectRequest{Socket: s}
	if srv.verifier == nil {
		req.User = anonymous(s.ID(), hsAuth)
	} else {
		user, err := srv.verifier.Verify(srv.verifier.FromHandshake(hsAuth, s.Session().Handshake().Header()))
		if err != nil {
			srv.metrics.Rejected.WithLabelValues(metrics.RejectUnauthorized).Inc()
			srv.log.Debug("handshake refused", "namespace", n.name, "reason", err)
			return &socketio.ConnectError{Message: "unauthorized", Data: map[string]any{"code": 401, "reason": reason(err)}}
		}
		req.User = user
	}
	if err := n.runMiddlewares(req); err != nil {
		return err
	}
	s.SetData(identity{User: req.User, App: req.Data})
	return nil
}

// runMiddlewares runs the application's connect middlewares; a refusal
// comes back as the client's connect_error.
func (n *Namespace) runMiddlewares(req *ConnectRequest) (refusal *socketio.ConnectError) {
	defer func() {
		if p := recover(); p != nil {
			n.srv.log.Error("connect middleware panicked", "namespace", n.name, "panic", p, "stack", string(debug.Stack()))
			refusal = &socketio.ConnectError{Message: "internal error"}
		}
		if refusal != nil {
			n.srv.metrics.Rejected.WithLabelValues(metrics.RejectMiddleware).Inc()
		}
	}()
	for _, mw := range n.middlewares {
		err := mw(req)
		if err == nil {
			continue
		}
		var ce *ConnectError
		if errors.As(err, &ce) {
			n.srv.log.Debug("connect refused", "namespace", n.name, "message", ce.Message)
			return &socketio.ConnectError{Message: ce.Message, Data: ce.Data}
		}
		n.srv.log.Error("connect middleware failed", "namespace", n.name, "err", err)
		return &socketio.ConnectError{Message: "internal error"}
	}
	return nil
}

// reason is the client-facing text of an auth error: the sentinel, never the
// parser's internals.
func reason(err error) string {
	for _, e := range []error{auth.ErrMissingToken, auth.ErrExpiredToken, auth.ErrNoSubject, auth.ErrInvalidToken} {
		if errors.Is(err, e) {
			return e.Error()
		}
	}
	return auth.ErrInvalidToken.Error()
}

// maxAnonymousName bounds the self-chosen name of an anonymous user.
const maxAnonymousName = 32

func anonymous(sid string, hsAuth map[string]any) auth.User {
	name, _ := hsAuth["name"].(string)
	name = strings.TrimSpace(name)
	if !utf8.ValidString(name) || name == "" {
		name = "guest-" + sid[:min(6, len(sid))]
	}
	if utf8.RuneCountInString(name) > maxAnonymousName {
		name = string([]rune(name)[:maxAnonymousName])
	}
	return auth.User{ID: sid, Name: name}
}

// identity is what a socket's data holds: who it is and the application's
// data, which recovery restores (User's JSON fields first, so what other
// nodes and Node's adapters see of it stays a user).
type identity struct {
	auth.User
	App any `json:"app,omitempty"`
}

// identityOf reads the identity stored by identify; after a recovery
// through Redis the stored value comes back decoded (a map), hence the
// round trip.
func identityOf(s *socketio.Socket) identity {
	switch d := s.Data().(type) {
	case identity:
		return d
	case nil:
	default:
		var id identity
		if b, err := json.Marshal(d); err == nil && json.Unmarshal(b, &id) == nil && id.ID != "" {
			return id
		}
	}
	return identity{User: auth.User{ID: s.ID()}}
}

func (n *Namespace) connect(s *socketio.Socket) {
	srv := n.srv
	id := identityOf(s)
	c := &Client{sock: s, ns: n, User: id.User, app: id.App, limiter: ratelimit.New(srv.cfg.RateLimit)}
	s.SetData(id)
	s.SetValue(c)
	c.setTransport(s.Session().Transport())
	if srv.cfg.RecoveryWindow > 0 && !s.Recovered() {
		n.primeOffset(s)
	}
	c.Log().Debug("socket connected", "transport", c.Transport(), "recovered", s.Recovered())
	for _, fn := range n.onConnect {
		fn(c)
	}
}

func (n *Namespace) disconnected(s *socketio.Socket, reason string, rooms []string) {
	c := clientOf(s)
	c.setTransport("")
	c.Log().Debug("socket disconnected", "reason", reason)
	for _, fn := range n.onDisconnect {
		fn(c, reason, rooms)
	}
}

// OffsetEvent is a payload-less event each new socket receives when
// connection state recovery is on. Recovery needs the offset of the last
// broadcast the client saw; a client that has seen none (say, one that only
// used acks) could never recover, in the reference server too. Sending it
// one broadcast-stored packet right away fixes that.
const OffsetEvent = "recovery-offset"

func (n *Namespace) primeOffset(s *socketio.Socket) {
	if err := n.io.Emit(socketio.Broadcast{Rooms: []string{s.ID()}}, OffsetEvent); err != nil {
		n.srv.log.Warn("recovery offset not sent", "namespace", n.name, "sid", s.ID(), "err", err)
	}
}

// setTransport moves the socket between transport gauges; "" removes it for
// good (a late upgrade cannot bring it back).
func (c *Client) setTransport(t string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gone || c.transport == t {
		return
	}
	g := c.ns.srv.metrics.Sockets
	if c.transport != "" {
		g.WithLabelValues(c.ns.name, c.transport).Dec()
	}
	if t != "" {
		g.WithLabelValues(c.ns.name, t).Inc()
	}
	c.transport, c.gone = t, t == ""
}

// event is the dispatcher, the namespace's Event hook: it counts the
// event, applies the rate limit, answers refused and unknown events that
// asked for an ack, and runs the handler. It runs on the connection's
// handler goroutine, one event of a connection at a time, in the order
// they came, so handlers and refusals are answered in that order.
func (n *Namespace) event(s *socketio.Socket, p *socketio.Packet, ack func(...any) error) {
	srv := n.srv
	c := clientOf(s)
	n.eventsIn.Inc()
	if c.kicked.Load() {
		srv.metrics.Dropped.WithLabelValues("kicked").Inc()
		return
	}
	refuse := func(label, msg string) {
		srv.metrics.Dropped.WithLabelValues(label).Inc()
		if ack != nil {
			_ = ack(ErrorAck{Error: msg})
		}
	}
	switch c.limiter.Check(time.Now()) {
	case ratelimit.Refuse:
		refuse("rate_limited", "rate limited")
		return
	case ratelimit.Disconnect:
		c.Kick(DisconnectRateLimit)
		return
	}
	if p.Refused != "" {
		refuse(p.RefusedLabel, p.Refused)
		return
	}
	name := p.Event
	h, ok := n.byName[name]
	if !ok && n.fallback != nil {
		wantsAck := ack != nil
		h, ok = &handler{spec: EventSpec{Name: name}, fn: func(c *Client, a []any) ([]any, error) { return n.fallback(c, name, a, wantsAck) }}, true
	}
	if !ok {
		refuse("unknown_event", fmt.Sprintf("unknown event %q", name))
		return
	}
	args, err := p.Args()
	if err != nil {
		refuse("bad_arguments", "malformed arguments")
		return
	}
	if n.queue == 0 {
		n.run(c, h, args, ack)
	} else if !c.enqueue(h, args, ack) {
		refuse("queue_full", "too many pending events")
	}
}

// enqueue hands an event to the socket's queue worker, starting one when
// none runs; false when the queue is full. Queued events count as in
// flight, so a drain waits for them.
func (c *Client) enqueue(h *handler, args []any, ack func(...any) error) bool {
	c.queueMu.Lock()
	defer c.queueMu.Unlock()
	if len(c.pending) >= c.ns.queue {
		return false
	}
	c.ns.srv.inflight.add()
	c.pending = append(c.pending, queued{h, args, ack})
	if !c.working {
		c.working = true
		go c.work()
	}
	return true
}

// work runs the queued events in order and ends when none is left.
func (c *Client) work() {
	for {
		c.queueMu.Lock()
		if len(c.pending) == 0 {
			c.working = false
			c.pending = nil
			c.queueMu.Unlock()
			return
		}
		q := c.pending[0]
		c.pending = c.pending[1:]
		c.queueMu.Unlock()
		if c.Connected() {
			c.ns.run(c, q.h, q.args, q.ack)
		}
		c.ns.srv.inflight.done()
	}
}

// ErrorAck is the ack of a refused or failed request.
type ErrorAck struct {
	OK    bool   `json:"ok" ts:"false"`
	Error string `json:"error"`
}

// ClientError is an error whose message is meant for the client: a handler
// returning one has it sent back in the ack verbatim.
type ClientError interface {
	error
	ClientMessage() string
}

// RequestError is a client mistake; its text is sent back in the ack.
type RequestError struct{ Msg string }

func (e *RequestError) Error() string { return e.Msg }

// ClientMessage is the text the client gets.
func (e *RequestError) ClientMessage() string { return e.Msg }

// BadRequest returns a RequestError with a formatted message.
func BadRequest(format string, a ...any) error {
	return &RequestError{Msg: fmt.Sprintf(format, a...)}
}

func (n *Namespace) run(c *Client, h *handler, args []any, ack func(...any) error) {
	n.srv.inflight.add()
	defer n.srv.inflight.done()
	c.handling.Store(true)
	defer c.handled() // after the ack, whichever way it went
	defer func() {
		if p := recover(); p != nil {
			c.Log().Error("handler panicked", "event", h.spec.Name, "panic", p, "stack", string(debug.Stack()))
			if ack != nil {
				_ = ack(ErrorAck{Error: "internal error"})
			}
		}
	}()
	res, err := h.fn(c, args)
	if err != nil {
		var re ClientError
		msg := "internal error"
		if errors.As(err, &re) {
			msg = re.ClientMessage()
			c.Log().Debug("request refused", "event", h.spec.Name, "err", err)
		} else {
			c.Log().Error("handler failed", "event", h.spec.Name, "err", err)
		}
		if ack != nil {
			_ = ack(ErrorAck{Error: msg})
		}
		return
	}
	if ack != nil {
		_ = ack(res...)
	}
}

// handled ends a handler of c, carrying out a kick deferred meanwhile.
func (c *Client) handled() {
	c.handling.Store(false)
	if d := c.deferred.Swap(nil); d != nil {
		c.Kick(*d)
	}
}

// decodeArg decodes the first argument into dst through JSON, so handlers
// get typed structs with the same field rules as the TypeScript side.
func decodeArg(args []any, dst any) error {
	if reflect.TypeOf(dst).Elem() == reflect.TypeFor[struct{}]() {
		return nil
	}
	if len(args) == 0 {
		return BadRequest("missing payload")
	}
	b, err := json.Marshal(args[0])
	if err != nil {
		return BadRequest("payload is not JSON")
	}
	if err := json.Unmarshal(b, dst); err != nil {
		return BadRequest("invalid payload: %v", jsonProblem(err))
	}
	return nil
}

func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field == "" {
			return "payload must be a JSON object"
		}
		return fmt.Sprintf("field %q must be %s", te.Field, te.Type.Kind())
	}
	return "malformed"
}
