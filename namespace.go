package sockside

import (
	"errors"
	"reflect"
	"slices"

	"github.com/sockside/sockside/internal/auth"
	"github.com/sockside/sockside/internal/sio"
)

// Namespace is a Socket.IO namespace ("/chat"): its events, connect
// middleware, hooks and rooms. Clients reach it with io("/chat").
type Namespace struct {
	n *sio.Namespace
}

func newNamespace(n *sio.Namespace) *Namespace {
	ns := &Namespace{n: n}
	// First of the namespace's hooks, so every other one and every
	// handler finds the socket's handle.
	n.OnConnect(func(c *sio.Client) { c.Ext = &Socket{c: c} })
	return ns
}

// socketOf is the handle newNamespace gave c.
func socketOf(c *sio.Client) *Socket { return c.Ext.(*Socket) }

// Name is the namespace's name, e.g. "/chat".
func (n *Namespace) Name() string { return n.n.Name() }

// EventSpec describes one declared event: its name, the Go type of its
// payload (nil for any arguments, see HandleRaw) and, for client events,
// of its ack. Generators read them (the TypeScript event maps).
type EventSpec struct {
	Name    string
	Payload reflect.Type
	Ack     reflect.Type
}

// ClientEvents lists the events clients may send, in registration order.
func (n *Namespace) ClientEvents() []EventSpec { return specs(n.n.ClientEvents()) }

// ServerEvents lists the events the server declares it emits (Emits), in
// declaration order. Every namespace declares two of its own: "disconnect-
// reason" (see Disconnect) and "recovery-offset" (sent to each new socket
// while connection state recovery is on).
func (n *Namespace) ServerEvents() []EventSpec { return specs(n.n.ServerEvents()) }

func specs(in []sio.EventSpec) []EventSpec {
	out := make([]EventSpec, len(in))
	for i, s := range in {
		out[i] = EventSpec(s)
	}
	return out
}

// ConnectRequest is a socket asking to join a namespace, as its connect
// middleware sees it (see Namespace.Use).
type ConnectRequest struct {
	// SocketID is the id the socket will have.
	SocketID string
	// Handshake is what the client sent.
	Handshake Handshake
	// User is who the socket is: from the verified JWT when
	// SOCKET_AUTH_SECRET is set, else anonymous (the id, with the name the
	// client offers in its auth payload). A middleware may replace it.
	User User
	// Data is the application's data for the socket, nil until a
	// middleware sets it (see Socket.Data).
	Data any
}

// Use adds a connect middleware. Middlewares run in the order they were
// added, after the server's own auth (the JWT when SOCKET_AUTH_SECRET is
// set), before the client sees "connect". Returning an error refuses the
// socket: a *ConnectError reaches the client's connect_error with its
// Message and Data; any other error is logged and the client gets
// "internal error". A panic is recovered and treated the same way.
func (n *Namespace) Use(mw func(*ConnectRequest) error) {
	n.n.Use(func(r *sio.ConnectRequest) error {
		req := &ConnectRequest{SocketID: r.Socket.ID(), Handshake: handshakeOf(r.Socket), User: User(r.User), Data: r.Data}
		err := mw(req)
		if err == nil {
			r.User, r.Data = auth.User(req.User), req.Data
			return nil
		}
		if ce, ok := errors.AsType[*ConnectError](err); ok {
			return &sio.ConnectError{Message: ce.Message, Data: ce.Data}
		}
		return err
	})
}

// OnConnect adds a hook run for every socket that connects, before any of
// its events is handled. Hooks run in the order they were added.
func (n *Namespace) OnConnect(fn func(*Socket)) {
	n.n.OnConnect(func(c *sio.Client) { fn(socketOf(c)) })
}

// OnDisconnect adds a hook run after a socket has left, with the reason
// (Socket.IO's: "client namespace disconnect", "transport close", "ping
// timeout", "server namespace disconnect", ...) and the rooms it was in.
func (n *Namespace) OnDisconnect(fn func(s *Socket, reason string, rooms []string)) {
	n.n.OnDisconnect(func(c *sio.Client, reason string, rooms []string) { fn(socketOf(c), reason, rooms) })
}

// SetRoomKey maps the room names that the emit API (POST /api/emit)
// receives to the rooms the namespace puts sockets in, for a namespace
// that keeps its rooms apart from the per-socket id rooms with a prefix.
func (n *Namespace) SetRoomKey(fn func(public string) string) { n.n.SetRoomKey(fn) }

// Handle registers a client event whose first argument decodes (as JSON)
// into Req and whose ack carries the returned Ack. A returned error is
// acked as {ok: false, error}: the text of a BadRequest error verbatim,
// any other error logged and sent as "internal error". Events a client
// sends without an ack run the handler all the same.
//
// Handlers of one socket run one at a time, in the order the client sent
// the events; handlers of different sockets run concurrently.
func Handle[Req, Ack any](n *Namespace, event string, fn func(s *Socket, req Req) (Ack, error)) {
	sio.Handle(n.n, event, func(c *sio.Client, req Req) (Ack, error) { return fn(socketOf(c), req) })
}

// Event is a client event as a HandleAny handler gets it.
type Event struct {
	// Name is the event's name.
	Name string
	// Args are its arguments, as HandleRaw gets them.
	Args []any
	// WantsAck reports whether the client asked for an ack (emitWithAck, or
	// emit with a callback); the handler's result is sent only then.
	WantsAck bool
}

// HandleAny registers the handler of every client event that no Handle or
// HandleRaw of n names. Without one, such events are acked {ok: false,
// error: "unknown event ..."}.
func HandleAny(n *Namespace, fn func(s *Socket, e Event) ([]any, error)) {
	sio.HandleAny(n.n, func(c *sio.Client, event string, args []any, wantsAck bool) ([]any, error) {
		return fn(socketOf(c), Event{Name: event, Args: args, WantsAck: wantsAck})
	})
}

// HandleRaw registers a client event that takes and acks any arguments:
// JSON values as encoding/json decodes them into any (numbers as float64),
// binary as []byte at any depth. The returned values are the ack's
// arguments ([]byte is sent as binary).
func HandleRaw(n *Namespace, event string, fn func(s *Socket, args []any) ([]any, error)) {
	sio.HandleRaw(n.n, event, func(c *sio.Client, args []any) ([]any, error) {
		return fn(socketOf(c), args)
	})
}

// SetHandlerQueue makes n's handlers run on a queue per socket instead of
// on the connection's reader: still one at a time and in order, but a slow
// handler (a database, an HTTP call) then holds up neither the
// connection's other namespaces nor its heartbeat. At most max events wait
// per socket; more are acked {ok: false, error: "too many pending events"}.
func (n *Namespace) SetHandlerQueue(max int) {
	if max < 1 {
		panic("sockside: SetHandlerQueue needs a queue of at least 1")
	}
	n.n.SetQueue(max)
}

// Emitter sends one declared server-to-client event with a payload of
// type T. A failed emit is logged (with Redis it is queued while Redis is
// away, see docs/scaling.md).
type Emitter[T any] struct{ e sio.Emitter[T] }

// Emits declares that the server emits event on n with a payload of type
// T, and returns what sends it.
func Emits[T any](n *Namespace, event string) Emitter[T] {
	return Emitter[T]{sio.Emits[T](n.n, event)}
}

// ToAll sends v to every socket of the namespace, on every node.
func (e Emitter[T]) ToAll(v T) { e.e.ToAll(v) }

// ToRoom sends v to every socket in room, on every node.
func (e Emitter[T]) ToRoom(room string, v T) { e.e.ToRoom(room, v) }

// ToRoomExcept sends v to every socket in room but s.
func (e Emitter[T]) ToRoomExcept(s *Socket, room string, v T) { e.e.ToRoomExcept(s.c, room, v) }

// ToSocket sends v to s alone.
func (e Emitter[T]) ToSocket(s *Socket, v T) { e.e.ToClient(s.c, v) }

// Emit sends an event that was not declared with Emits to every socket of
// the namespace, on every node.
func (n *Namespace) Emit(event string, args ...any) error { return n.n.EmitRaw("", event, args...) }

// To selects the sockets in any of rooms (socket ids name rooms too: each
// socket is in the room of its id), for an event that was not declared
// with Emits.
func (n *Namespace) To(rooms ...string) Broadcast {
	return Broadcast{n: n, rooms: rooms}
}

// Broadcast is a selection of a namespace's sockets, on every node.
type Broadcast struct {
	n             *Namespace
	all           bool // Namespace.Except: every socket but
	rooms, except []string
}

// Except selects every socket of the namespace but those in any of rooms
// (or with those ids).
func (n *Namespace) Except(rooms ...string) Broadcast {
	return Broadcast{n: n, all: true, except: rooms}
}

// Except leaves out the sockets in any of rooms (or with those ids).
func (b Broadcast) Except(rooms ...string) Broadcast {
	b.except = append(slices.Clip(b.except), rooms...)
	return b
}

// Emit sends the event to the selected sockets. To with no room selects
// none, an error (Namespace.Emit sends to everyone).
func (b Broadcast) Emit(event string, args ...any) error {
	if len(b.rooms) == 0 && !b.all {
		return errors.New("sockside: To needs a room (Namespace.Emit sends to everyone)")
	}
	return b.n.n.Broadcast(b.rooms, b.except, event, args...)
}

// Members counts the sockets in room across every node (with Redis, a
// round trip to the other nodes, bounded at 5 seconds).
func (n *Namespace) Members(room string) (int, error) { return n.n.Members(room) }
