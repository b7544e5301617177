package socketio

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"sort"
	"sync"
	"time"

	"github.com/sockside/sockside/internal/engine"
)

// Socket is one connection's membership of one namespace.
type Socket struct {
	id        string
	pid       string // recovery's private id; "" with recovery off
	recovered bool
	ns        *Namespace
	conn      *conn
	auth      json.RawMessage // the CONNECT payload

	mu        sync.Mutex
	opening   bool             // its CONNECT has not gone out yet: sends wait in held
	held      []*engine.Packet // sent while opening
	connected bool
	rooms     map[string]struct{}
	acks      map[int64]*pendingAck // server-to-client acks awaited; nil when none
	nextAck   int64
	value     any
	data      any
}

type pendingAck struct {
	fn    func(args []any, err error)
	timer *time.Timer
}

// ErrAckTimeout is what an EmitWithAck callback gets when the client does not answer in time.
var ErrAckTimeout = errors.New("socket.io: ack timed out")

func newSocket(n *Namespace, c *conn, auth json.RawMessage) *Socket {
	s := &Socket{id: randomID(), ns: n, conn: c, auth: auth, connected: true, opening: true}
	if n.srv.cfg.Recovery.on() {
		s.pid = randomID()
	}
	return s
}

// randomID is a socket id or private id: 120 random bits.
func randomID() string {
	var b [15]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// ID is the socket's id (socket.id on the client).
func (s *Socket) ID() string { return s.id }

// Recovered reports whether the socket is a recovered session: its id,
// rooms and data are those it had before its connection dropped, and it
// has been sent the broadcasts it missed.
func (s *Socket) Recovered() bool { return s.recovered }

// SetData stores the application's data for the socket: what a recovery
// restores (on another node, as its JSON) and FetchSockets shows.
func (s *Socket) SetData(v any) {
	s.mu.Lock()
	s.data = v
	s.mu.Unlock()
}

// Data is what SetData stored (or the recovered session's data).
func (s *Socket) Data() any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.data
}

// Namespace is the socket's namespace.
func (s *Socket) Namespace() *Namespace { return s.ns }

// Session is the Engine.IO session beneath (its handshake, its transport).
func (s *Socket) Session() *engine.Session { return s.conn.sess }

// SetValue stores the layer above's state for the socket; Value returns it.
func (s *Socket) SetValue(v any) {
	s.mu.Lock()
	s.value = v
	s.mu.Unlock()
}

// Value is what SetValue stored.
func (s *Socket) Value() any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.value
}

// Connected reports whether the socket is still in its namespace.
func (s *Socket) Connected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.connected
}

// Join puts the socket in rooms.
func (s *Socket) Join(rooms ...string) {
	for _, room := range rooms {
		if room == s.id {
			continue // it always is
		}
		s.mu.Lock()
		if !s.connected {
			s.mu.Unlock()
			return
		}
		if s.rooms == nil {
			s.rooms = make(map[string]struct{}, 2)
		}
		_, in := s.rooms[room]
		s.rooms[room] = struct{}{}
		s.mu.Unlock()
		if !in {
			s.ns.join(s, room)
		}
	}
}

// Leave takes the socket out of room.
func (s *Socket) Leave(room string) {
	s.mu.Lock()
	_, in := s.rooms[room]
	delete(s.rooms, room)
	s.mu.Unlock()
	if in {
		s.ns.leaveRoom(s, room)
	}
}

// Rooms lists the rooms the socket joined, sorted, without the room of its
// own id that every socket is in.
func (s *Socket) Rooms() []string {
	s.mu.Lock()
	out := make([]string, 0, len(s.rooms))
	for r := range s.rooms {
		out = append(out, r)
	}
	s.mu.Unlock()
	sort.Strings(out)
	return out
}

// In reports whether the socket is in room (its own id's included).
func (s *Socket) In(room string) bool {
	if room == s.id {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, in := s.rooms[room]
	return in
}

// Emit sends an event to this socket.
func (s *Socket) Emit(event string, args ...any) error {
	if !s.Connected() {
		return errNotConnected
	}
	enc, err := encodeEvent(s.ns.name, noID, event, args, false)
	if err != nil {
		return err
	}
	return s.send(enc.packets(), false, false)
}

// send sends the socket's packets, or keeps them while it is opening; a
// volatile broadcast (queued) is dropped then, and when the transport
// cannot take it at once.
func (s *Socket) send(packets []*engine.Packet, broadcast, volatile bool) error {
	s.mu.Lock()
	if s.opening {
		if !volatile {
			s.held = append(s.held, packets...)
		}
		s.mu.Unlock()
		return nil
	}
	s.mu.Unlock()
	if broadcast {
		s.conn.sendPackets(packets, volatile)
		return nil
	}
	return s.conn.send(packets)
}

// open sends first (the CONNECT answer, a recovery's missed broadcasts),
// then what was held, and ends the opening. They are queued together, so
// they go out in one write: a client reads them together, as it would from the
// reference server (socket.io-client has the recovery offset that follows
// a CONNECT by the time its code sees "connect").
func (s *Socket) open(first []*engine.Packet) {
	s.mu.Lock()
	defer s.mu.Unlock() // sends of others wait: they come after
	s.opening = false
	_ = s.conn.sess.QueueAll(append(first, s.held...))
	s.held = nil
}

// EmitWithAck sends an event the client acknowledges; fn gets its answer,
// or ErrAckTimeout after timeout, or errNotConnected if the socket leaves
// first. It is called once, from another goroutine.
func (s *Socket) EmitWithAck(timeout time.Duration, fn func(args []any, err error), event string, args ...any) error {
	s.mu.Lock()
	if !s.connected {
		s.mu.Unlock()
		return errNotConnected
	}
	id := s.nextAck
	s.nextAck++
	if s.acks == nil {
		s.acks = make(map[int64]*pendingAck, 1)
	}
	pa := &pendingAck{fn: fn}
	s.acks[id] = pa
	pa.timer = time.AfterFunc(timeout, func() {
		if s.takeAck(id) != nil {
			fn(nil, ErrAckTimeout)
		}
	})
	s.mu.Unlock()
	enc, err := encodeEvent(s.ns.name, id, event, args, false)
	if err == nil {
		err = s.send(enc.packets(), false, false)
	}
	if err != nil && s.takeAck(id) != nil {
		pa.timer.Stop()
		return err
	}
	return nil
}

func (s *Socket) takeAck(id int64) *pendingAck {
	s.mu.Lock()
	defer s.mu.Unlock()
	pa := s.acks[id]
	delete(s.acks, id)
	if len(s.acks) == 0 {
		s.acks = nil
	}
	return pa
}

// acked is the client's answer to an EmitWithAck.
func (s *Socket) acked(p *Packet) {
	pa := s.takeAck(p.ID)
	if pa == nil {
		return // late (timed out) or never asked
	}
	pa.timer.Stop()
	args, err := p.Args()
	pa.fn(args, err)
}

// event hands a client event to the namespace's hook with its ack.
func (s *Socket) event(p *Packet) {
	h := s.ns.getHooks()
	if h.Event == nil {
		return
	}
	var ack func(args ...any) error
	if p.ID != noID {
		var once sync.Once
		ack = func(args ...any) error {
			err := errAckSent
			once.Do(func() {
				if !s.Connected() {
					err = errNotConnected
					return
				}
				var enc Encoded
				enc, err = encodeEvent(s.ns.name, p.ID, "", args, true)
				if err == nil {
					err = s.send(enc.packets(), false, false)
				}
			})
			return err
		}
	}
	h.Event(s, p, ack)
}

var errAckSent = errors.New("socket.io: ack already sent")

// Disconnect takes the socket out of its namespace: the client gets a
// DISCONNECT for it (reason "server namespace disconnect"); with close, the
// whole connection ends.
func (s *Socket) Disconnect(closeConn bool) {
	if !s.Connected() {
		return
	}
	_ = s.send([]*engine.Packet{engine.Message(encodeDisconnect(s.ns.name), false)}, false, false)
	s.leave(ReasonServerNamespaceDisconnect, closeConn)
}

// DisconnectAfter is Disconnect(false) in two steps: the client gets the
// DISCONNECT now, and the socket leaves after grace. Packets the client
// sent before it got the DISCONNECT still find their socket meanwhile (an
// event for a namespace the connection is not in ends the whole
// connection, as with the reference server); the Event hook sees them.
func (s *Socket) DisconnectAfter(grace time.Duration) {
	if !s.Connected() {
		return
	}
	_ = s.send([]*engine.Packet{engine.Message(encodeDisconnect(s.ns.name), false)}, false, false)
	time.AfterFunc(grace, func() { s.leave(ReasonServerNamespaceDisconnect, false) })
}

// leave removes the socket from its namespace and rooms, fails its
// pending acks and tells the hook.
func (s *Socket) leave(reason string, closeConn bool) {
	s.mu.Lock()
	if !s.connected {
		s.mu.Unlock()
		return
	}
	s.connected = false
	rooms := make([]string, 0, len(s.rooms))
	for r := range s.rooms {
		rooms = append(rooms, r)
	}
	s.rooms = nil // and with it the map
	acks := s.acks
	s.acks = nil
	data := s.data
	s.mu.Unlock()
	sort.Strings(rooms)

	if s.pid != "" && recoverableReasons[reason] {
		sess := Session{SID: s.id, PID: s.pid, Rooms: append([]string{s.id}, rooms...), Data: data}
		if err := s.ns.sessions().Persist(sess); err != nil {
			s.ns.srv.log.Warn("recovery session not stored", "namespace", s.ns.name, "sid", s.id, "err", err)
		}
	}

	s.ns.remove(s, rooms)
	s.conn.remove(s)
	for _, pa := range acks {
		pa.timer.Stop()
		pa.fn(nil, errNotConnected)
	}
	if closeConn {
		s.conn.sess.Close()
	}
	if h := s.ns.getHooks(); h.Disconnected != nil {
		h.Disconnected(s, reason, rooms)
	}
}
