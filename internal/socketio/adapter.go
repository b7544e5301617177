package socketio

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/sockside/sockside/internal/engine"
)

// Adapter links one namespace to the other nodes of a cluster. The
// namespace serves its own sockets and rooms; the adapter carries what
// crosses nodes, and calls the namespace's Remote* methods for what arrives
// from them. Without one (Config.Adapter nil) a namespace is one node.
//
// Its methods are called from many goroutines at once.
type Adapter interface {
	// Publish sends a broadcast to the other nodes, before it is delivered
	// here. With recoverable set the adapter may store it for connection
	// state recovery and return its offset, which every receiver gets;
	// "" leaves the offset to this node's memory (see Sessions).
	Publish(m Message, recoverable bool) (offset string, err error)
	// AddSockets, DelSockets and DisconnectSockets act on the sockets b
	// selects on the other nodes.
	AddSockets(b Broadcast, rooms []string) error
	DelSockets(b Broadcast, rooms []string) error
	DisconnectSockets(b Broadcast, closeConn bool) error
	// FetchSockets lists the sockets b selects on the other nodes.
	FetchSockets(ctx context.Context, b Broadcast) ([]SocketInfo, error)
	// Sessions is where recovery sessions and the packets they missed are
	// kept; nil: this node's memory.
	Sessions() SessionStore
	// Close leaves the cluster.
	Close()
}

// Message is a broadcast as it travels between nodes: the event's data
// array (its name, then the arguments, as JSON-like values with binary as
// []byte) and who it is for.
type Message struct {
	Data []any
	Broadcast
}

// SocketInfo is a socket as FetchSockets lists it, on any node.
type SocketInfo struct {
	ID    string
	Rooms []string // the room of its own id included, as Node lists them
	Data  any      // what the application stored (Socket.SetData)
	// Handshake is what Node's fetchSockets shows of the handshake (its
	// address, query, auth...): JSON-like, for the wire.
	Handshake map[string]any
}

// AdapterFor makes the adapter of a new namespace (it may not call back
// into n before it returns).
type AdapterFor func(n *Namespace) Adapter

// Publish delivers a message built elsewhere (the emit API, a hook's
// answer) as Emit would: to this node's sockets and, through the adapter,
// to the other nodes'.
func (n *Namespace) Publish(m Message) error { return n.broadcast(m, true, "") }

// RemoteBroadcast delivers a broadcast that came from another node to this
// node's sockets; offset is its recovery offset from the adapter's store,
// or "".
func (n *Namespace) RemoteBroadcast(m Message, offset string) error {
	return n.broadcast(m, false, offset)
}

// broadcast delivers m here (and with publish, elsewhere first). A
// recoverable broadcast (an event, recovery on, not volatile) carries its
// offset as its last argument, which clients send back to recover.
func (n *Namespace) broadcast(m Message, publish bool, offset string) error {
	if len(m.Data) == 0 {
		return fmt.Errorf("socket.io: broadcast to %s without an event name", n.name)
	}
	recoverable := n.srv.cfg.Recovery.on() && !m.Volatile
	var pubErr error
	if publish && n.adapter != nil && !m.Local {
		off, err := n.adapter.Publish(m, recoverable)
		if err != nil {
			// The local sockets still get it, as with the reference
			// adapters; the caller learns the cluster missed it.
			pubErr = fmt.Errorf("socket.io: publishing to the other nodes of %s: %w", n.name, err)
		}
		offset = off
	}
	enc, err := EncodeEvent(n.name, m.Data)
	if err != nil {
		return err
	}
	send := func(e Encoded) {
		packets := e.packets()
		for _, s := range n.targets(m.Broadcast) {
			_ = s.send(packets, true, m.Volatile)
		}
	}
	switch {
	case recoverable && offset != "":
		send(enc.WithOffset(offset))
	case recoverable && n.mem != nil:
		n.mem.deliver(enc, m.Broadcast, send)
	default:
		send(enc)
	}
	return pubErr
}

// packets are e's engine packets, shared by every receiver.
func (e Encoded) packets() []*engine.Packet {
	out := make([]*engine.Packet, 0, 1+len(e.Attachments))
	out = append(out, engine.Message(e.Text, false))
	for _, a := range e.Attachments {
		out = append(out, engine.Message(a, true))
	}
	return out
}

// AddSockets puts the sockets b selects, on every node, in rooms.
func (n *Namespace) AddSockets(b Broadcast, rooms []string) error {
	n.RemoteAddSockets(b, rooms)
	if n.adapter == nil || b.Local {
		return nil
	}
	return n.adapter.AddSockets(b, rooms)
}

// DelSockets takes the sockets b selects, on every node, out of rooms.
func (n *Namespace) DelSockets(b Broadcast, rooms []string) error {
	n.RemoteDelSockets(b, rooms)
	if n.adapter == nil || b.Local {
		return nil
	}
	return n.adapter.DelSockets(b, rooms)
}

// DisconnectSockets disconnects the sockets b selects, on every node.
func (n *Namespace) DisconnectSockets(b Broadcast, closeConn bool) error {
	n.RemoteDisconnectSockets(b, closeConn)
	if n.adapter == nil || b.Local {
		return nil
	}
	return n.adapter.DisconnectSockets(b, closeConn)
}

// FetchSockets lists the sockets b selects on every node: this node's
// first.
func (n *Namespace) FetchSockets(ctx context.Context, b Broadcast) ([]SocketInfo, error) {
	out := n.LocalSockets(b)
	if n.adapter == nil || b.Local {
		return out, nil
	}
	remote, err := n.adapter.FetchSockets(ctx, b)
	if err != nil {
		return out, fmt.Errorf("socket.io: fetching the sockets of %s from the other nodes: %w", n.name, err)
	}
	return append(out, remote...), nil
}

// CountSockets counts the sockets b selects on every node.
func (n *Namespace) CountSockets(ctx context.Context, b Broadcast) (int, error) {
	local := len(n.targets(b))
	if n.adapter == nil || b.Local {
		return local, nil
	}
	remote, err := n.adapter.FetchSockets(ctx, b)
	if err != nil {
		return local, fmt.Errorf("socket.io: counting the sockets of %s on the other nodes: %w", n.name, err)
	}
	return local + len(remote), nil
}

// RemoteAddSockets is AddSockets for this node's sockets (another node asked).
func (n *Namespace) RemoteAddSockets(b Broadcast, rooms []string) {
	for _, s := range n.targets(b) {
		s.Join(rooms...)
	}
}

// RemoteDelSockets is DelSockets for this node's sockets.
func (n *Namespace) RemoteDelSockets(b Broadcast, rooms []string) {
	for _, s := range n.targets(b) {
		for _, r := range rooms {
			s.Leave(r)
		}
	}
}

// RemoteDisconnectSockets is DisconnectSockets for this node's sockets.
func (n *Namespace) RemoteDisconnectSockets(b Broadcast, closeConn bool) {
	for _, s := range n.targets(b) {
		s.Disconnect(closeConn)
	}
}

// LocalSockets lists the sockets b selects on this node.
func (n *Namespace) LocalSockets(b Broadcast) []SocketInfo {
	targets := n.targets(b)
	out := make([]SocketInfo, 0, len(targets))
	for _, s := range targets {
		out = append(out, s.info())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (s *Socket) info() SocketInfo {
	rooms := append([]string{s.id}, s.Rooms()...)
	hs := s.conn.sess.Handshake()
	var auth any = map[string]any{}
	if a := s.Auth(); a != nil {
		auth = a
	}
	query := map[string]any{}
	for k, v := range hs.Query() {
		if len(v) > 0 {
			query[k] = v[0]
		}
	}
	headers := map[string]any{}
	for k, v := range hs.Header() {
		if len(v) > 0 {
			headers[strings.ToLower(k)] = v[0] // as Node names them
		}
	}
	return SocketInfo{
		ID:    s.id,
		Rooms: rooms,
		Data:  s.Data(),
		Handshake: map[string]any{
			"headers": headers,
			"time":    hs.Time.UTC().String(),
			"address": hs.Addr,
			"xdomain": headers["origin"] != nil,
			"secure":  hs.Secure,
			"issued":  hs.Time.UnixMilli(),
			"url":     "/socket.io/?" + hs.RawQuery,
			"query":   query,
			"auth":    auth,
		},
	}
}
