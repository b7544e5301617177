package socketio

import (
	"sort"
	"sync"

	"github.com/sockside/sockside/internal/engine"
)

// Hooks are what the layer above does with a namespace's sockets. Each runs
// on the socket's connection goroutine (one call at a time per connection),
// so a slow one holds that connection's later packets, never another's.
type Hooks struct {
	// Admit decides a CONNECT (auth, middleware); an error refuses it (a
	// *ConnectError reaches the client as it is).
	Admit func(s *Socket) error
	// Connected runs once the client has its socket id.
	Connected func(s *Socket)
	// Event handles a client event; ack is nil when the client asked for
	// none, else answers it once (later calls are ignored).
	Event func(s *Socket, p *Packet, ack func(args ...any) error)
	// Disconnected runs after the socket left, with the rooms it was in.
	Disconnected func(s *Socket, reason string, rooms []string)
	// Upgraded runs when the socket's connection moved from long-polling
	// to websocket.
	Upgraded func(s *Socket)
}

// Namespace is a Socket.IO namespace: its sockets, its rooms, its hooks.
//
// Lock order: Namespace.mu before Socket.mu.
type Namespace struct {
	name string
	srv  *Server

	hooksMu sync.RWMutex
	hooks   Hooks

	adapter Adapter   // nil: this node alone
	mem     *memStore // recovery in this node's memory; nil when off or the adapter keeps the sessions

	mu      sync.RWMutex
	sockets map[string]*Socket
	rooms   map[string]map[*Socket]struct{}
}

func newNamespace(s *Server, name string) *Namespace {
	n := &Namespace{name: name, srv: s, sockets: make(map[string]*Socket), rooms: make(map[string]map[*Socket]struct{})}
	if s.cfg.Adapter != nil {
		n.adapter = s.cfg.Adapter(n)
	}
	if s.cfg.Recovery.on() && (n.adapter == nil || n.adapter.Sessions() == nil) {
		n.mem = newMemStore(s.cfg.Recovery)
	}
	return n
}

// sessions is where the namespace's recovery sessions are kept.
func (n *Namespace) sessions() SessionStore {
	if n.mem != nil {
		return n.mem
	}
	return n.adapter.Sessions()
}

// Name is the namespace's name ("/chat").
func (n *Namespace) Name() string { return n.name }

// SetHooks sets what the namespace does with its sockets.
func (n *Namespace) SetHooks(h Hooks) {
	n.hooksMu.Lock()
	n.hooks = h
	n.hooksMu.Unlock()
}

func (n *Namespace) getHooks() Hooks {
	n.hooksMu.RLock()
	defer n.hooksMu.RUnlock()
	return n.hooks
}

// Count is the number of sockets connected to the namespace on this node.
func (n *Namespace) Count() int {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return len(n.sockets)
}

// Socket returns the connected socket with id.
func (n *Namespace) Socket(id string) (*Socket, bool) {
	n.mu.RLock()
	defer n.mu.RUnlock()
	s, ok := n.sockets[id]
	return s, ok
}

// Members lists the ids of the sockets in room on this node, sorted.
func (n *Namespace) Members(room string) []string {
	var ids []string
	n.mu.RLock()
	n.each(room, func(s *Socket) { ids = append(ids, s.id) })
	n.mu.RUnlock()
	sort.Strings(ids)
	return ids
}

// HasRoom reports whether room has a socket on this node (a socket's own
// id is its room).
func (n *Namespace) HasRoom(room string) bool {
	n.mu.RLock()
	defer n.mu.RUnlock()
	_, socket := n.sockets[room]
	return socket || len(n.rooms[room]) > 0
}

// AllRooms lists the rooms with sockets on this node, the sockets' own ids
// included (as Node's allRooms does), sorted.
func (n *Namespace) AllRooms() []string {
	n.mu.RLock()
	out := make([]string, 0, len(n.rooms)+len(n.sockets))
	for r := range n.rooms {
		out = append(out, r)
	}
	for id := range n.sockets {
		out = append(out, id)
	}
	n.mu.RUnlock()
	sort.Strings(out)
	return out
}

// each calls f for the sockets in room: its members, or the socket whose
// id it is (every socket is in the room of its own id, which is not kept
// in the index: one map per socket for nothing). Called with n.mu held.
func (n *Namespace) each(room string, f func(*Socket)) {
	if s, ok := n.sockets[room]; ok {
		f(s)
	}
	for s := range n.rooms[room] {
		f(s)
	}
}

func (n *Namespace) admit(s *Socket) error {
	if h := n.getHooks(); h.Admit != nil {
		return h.Admit(s)
	}
	return nil
}

func (n *Namespace) add(s *Socket) {
	n.mu.Lock()
	n.sockets[s.id] = s
	n.mu.Unlock()
}

func (n *Namespace) connected(s *Socket) {
	if h := n.getHooks(); h.Connected != nil {
		h.Connected(s)
	}
}

func (n *Namespace) join(s *Socket, room string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	members := n.rooms[room]
	if members == nil {
		members = make(map[*Socket]struct{}, 1)
		n.rooms[room] = members
	}
	members[s] = struct{}{}
}

func (n *Namespace) leaveRoom(s *Socket, room string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if members := n.rooms[room]; members != nil {
		delete(members, s)
		if len(members) == 0 {
			delete(n.rooms, room)
		}
	}
}

func (n *Namespace) remove(s *Socket, rooms []string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.sockets, s.id)
	for _, room := range rooms {
		if members := n.rooms[room]; members != nil {
			delete(members, s)
			if len(members) == 0 {
				delete(n.rooms, room)
			}
		}
	}
}

// Broadcast is who a broadcast goes to: the sockets in any of Rooms (every
// socket when there are none), except those in any of Except.
type Broadcast struct {
	Rooms    []string
	Except   []string
	Volatile bool // dropped for sockets that cannot take it right now
	Local    bool // this node's sockets only
}

// Emit sends event to the sockets b selects, on every node. The packet is
// encoded once and its engine packets shared by every receiver here.
func (n *Namespace) Emit(b Broadcast, event string, args ...any) error {
	data := make([]any, 0, 1+len(args))
	data = append(data, event)
	return n.broadcast(Message{Data: append(data, args...), Broadcast: b}, true, "")
}

// targets resolves b to sockets.
func (n *Namespace) targets(b Broadcast) []*Socket {
	n.mu.RLock()
	defer n.mu.RUnlock()
	var excluded map[*Socket]struct{}
	if len(b.Except) > 0 {
		excluded = make(map[*Socket]struct{})
		for _, room := range b.Except {
			n.each(room, func(s *Socket) { excluded[s] = struct{}{} })
		}
	}
	var out []*Socket
	if len(b.Rooms) == 0 {
		out = make([]*Socket, 0, len(n.sockets))
		for _, s := range n.sockets {
			if _, x := excluded[s]; !x {
				out = append(out, s)
			}
		}
		return out
	}
	seen := make(map[*Socket]struct{})
	for _, room := range b.Rooms {
		n.each(room, func(s *Socket) {
			if _, x := excluded[s]; x {
				return
			}
			if _, dup := seen[s]; !dup {
				seen[s] = struct{}{}
				out = append(out, s)
			}
		})
	}
	return out
}

// sendPackets sends a broadcast's shared engine packets; volatile ones
// only when the transport can take them at once.
func (c *conn) sendPackets(packets []*engine.Packet, volatile bool) {
	if volatile && !c.sess.Writable() {
		return
	}
	queue := c.sess.Queue
	if c.srv.cfg.DirectBroadcasts {
		queue = c.sess.Send
	}
	for _, p := range packets {
		if queue(p) != nil {
			return
		}
	}
}
