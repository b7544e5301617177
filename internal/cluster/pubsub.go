package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/sockside/sockside/internal/socketio"
)

// Request types of Node's @socket.io/redis-adapter (its RequestType).
const (
	reqSockets          = 0
	reqAllRooms         = 1
	reqRemoteJoin       = 2
	reqRemoteLeave      = 3
	reqRemoteDisconnect = 4
	reqRemoteFetch      = 5
	reqServerSideEmit   = 6
	reqBroadcast        = 7
)

// pubsubNS is one namespace on @socket.io/redis-adapter's channels:
// broadcasts on "<prefix>#<nsp>#" (or "...#<room>#" for one room), msgpack
// [uid, packet, opts]; requests as JSON on "<prefix>-request#<nsp>#";
// answers on "<prefix>-response#<nsp>#" (or the requester's own
// "...#<uid>#").
type pubsubNS struct {
	c        *Cluster
	n        *socketio.Namespace
	channel  string
	request  string
	response string
	specific string
	pending  collector
}

func newPubSubNS(c *Cluster, n *socketio.Namespace) *pubsubNS {
	a := &pubsubNS{
		c: c, n: n,
		channel:  c.prefix + "#" + n.Name() + "#",
		request:  c.prefix + "-request#" + n.Name() + "#",
		response: c.prefix + "-response#" + n.Name() + "#",
	}
	a.specific = a.response + c.uid + "#"
	c.subs.subscribe(a.onBroadcast, a.channel+"*")
	c.subs.subscribe(a.onRequest, "", a.request)
	c.subs.subscribe(a.onResponse, "", a.response, a.specific)
	return a
}

func (a *pubsubNS) Sessions() socketio.SessionStore { return nil }

func (a *pubsubNS) Close() {
	a.c.subs.unsubscribe(a.channel+"*", a.request, a.response, a.specific)
}

func (a *pubsubNS) publish(channel string, payload []byte) error {
	return a.c.publish(channel, payload)
}

// Publish sends [uid, packet, opts] (recovery offsets stay this node's:
// pub/sub keeps nothing).
func (a *pubsubNS) Publish(m socketio.Message, _ bool) (string, error) {
	payload, err := msgpack.Marshal([]any{a.c.uid, eventPacket(a.n.Name(), m), optsOf(m.Broadcast)})
	if err != nil {
		return "", fmt.Errorf("encoding a broadcast: %w", err)
	}
	channel := a.channel
	if len(m.Rooms) == 1 {
		channel += m.Rooms[0] + "#"
	}
	return "", a.c.publish(channel, payload)
}

// wireRequest is a request on the request channel, every type's fields.
type wireRequest struct {
	UID       string    `json:"uid" msgpack:"uid"`
	RequestID string    `json:"requestId,omitempty" msgpack:"requestId,omitempty"`
	Type      int       `json:"type" msgpack:"type"`
	Opts      *wireOpts `json:"opts,omitempty" msgpack:"opts,omitempty"`
	Rooms     []string  `json:"rooms,omitempty" msgpack:"rooms,omitempty"`
	Close     bool      `json:"close,omitempty" msgpack:"close,omitempty"`
	SID       string    `json:"sid,omitempty" msgpack:"sid,omitempty"`
	Room      string    `json:"room,omitempty" msgpack:"room,omitempty"`
}

func (a *pubsubNS) sendRequest(r wireRequest) error {
	r.UID = a.c.uid
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encoding a request: %w", err)
	}
	return a.c.publish(a.request, b)
}

func (a *pubsubNS) AddSockets(b socketio.Broadcast, rooms []string) error {
	o := optsOf(b)
	return a.sendRequest(wireRequest{Type: reqRemoteJoin, Opts: &o, Rooms: rooms})
}

func (a *pubsubNS) DelSockets(b socketio.Broadcast, rooms []string) error {
	o := optsOf(b)
	return a.sendRequest(wireRequest{Type: reqRemoteLeave, Opts: &o, Rooms: rooms})
}

func (a *pubsubNS) DisconnectSockets(b socketio.Broadcast, closeConn bool) error {
	o := optsOf(b)
	return a.sendRequest(wireRequest{Type: reqRemoteDisconnect, Opts: &o, Close: closeConn})
}

// FetchSockets asks every other node (the request channel's other
// subscribers) and waits for all of them. With Redis away there are none
// to ask: the node serves its own sockets (the error is counted).
func (a *pubsubNS) FetchSockets(ctx context.Context, b socketio.Broadcast) ([]socketio.SocketInfo, error) {
	others, err := a.c.otherNodes(ctx, a.request)
	if err != nil || others == 0 {
		return nil, nil
	}
	id := randomUID()
	r := a.pending.open(id, others)
	o := optsOf(b)
	if err := a.sendRequest(wireRequest{RequestID: id, Type: reqRemoteFetch, Opts: &o}); err != nil {
		a.pending.drop(id) // nothing will come
		return nil, nil
	}
	return a.pending.wait(ctx, id, r, a.c.requestTimeout)
}

// onBroadcast is a broadcast from another node (or an emitter).
func (a *pubsubNS) onBroadcast(channel string, payload []byte) {
	if room := strings.TrimSuffix(strings.TrimPrefix(channel, a.channel), "#"); room != "" && !a.n.HasRoom(room) {
		return // a room with nobody here
	}
	var msg struct {
		_msgpack struct{} `msgpack:",as_array"`
		UID      string
		Packet   wirePacket
		Opts     wireOpts
	}
	if err := msgpack.Unmarshal(payload, &msg); err != nil || msg.UID == a.c.uid {
		return
	}
	if msg.Packet.Nsp == "" {
		msg.Packet.Nsp = "/"
	}
	if msg.Packet.Nsp != a.n.Name() {
		return
	}
	if m, ok := msg.Packet.message(msg.Opts); ok {
		_ = a.n.RemoteBroadcast(m, "")
	}
}

// onRequest answers another node's request.
func (a *pubsubNS) onRequest(_ string, payload []byte) {
	var r wireRequest
	if err := decodeEither(payload, &r); err != nil || r.UID == a.c.uid {
		return
	}
	var b socketio.Broadcast
	if r.Opts != nil {
		b = r.Opts.broadcast()
	}
	single := socketio.Broadcast{Rooms: []string{r.SID}}
	switch r.Type {
	case reqSockets:
		go a.respond(map[string]any{"requestId": r.RequestID, "sockets": socketIDs(a.n.LocalSockets(socketio.Broadcast{Rooms: r.Rooms}))})
	case reqAllRooms:
		go a.respond(map[string]any{"requestId": r.RequestID, "rooms": a.n.AllRooms()})
	case reqRemoteJoin, reqRemoteLeave, reqRemoteDisconnect:
		if r.Opts == nil && r.SID == "" {
			return
		}
		if r.Opts == nil {
			if _, ok := a.n.Socket(r.SID); !ok {
				return
			}
			b = single
		}
		switch r.Type {
		case reqRemoteJoin:
			rooms := r.Rooms
			if r.Opts == nil {
				rooms = []string{r.Room}
			}
			a.n.RemoteAddSockets(b, rooms)
		case reqRemoteLeave:
			rooms := r.Rooms
			if r.Opts == nil {
				rooms = []string{r.Room}
			}
			a.n.RemoteDelSockets(b, rooms)
		default:
			a.n.RemoteDisconnectSockets(b, r.Close)
		}
		if r.Opts == nil {
			go a.respond(map[string]any{"requestId": r.RequestID})
		}
	case reqRemoteFetch:
		go a.respond(map[string]any{"requestId": r.RequestID, "sockets": nodeSockets(a.n.LocalSockets(b))})
	case reqServerSideEmit, reqBroadcast:
		// No server-side listeners here, and broadcasts with acks do not
		// cross nodes in the own core: the requester's wait ends at its
		// timeout with the other nodes' answers, as when a Node node has
		// no listener.
	}
}

// respond publishes an answer on the namespace's response channel (where
// every requester listens).
func (a *pubsubNS) respond(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		a.c.log.Warn("answer not encoded", "err", err)
		return
	}
	_ = a.c.publish(a.response, b)
}

func socketIDs(list []socketio.SocketInfo) []string {
	ids := make([]string, len(list))
	for i, s := range list {
		ids[i] = s.ID
	}
	return ids
}

// onResponse is an answer to one of this node's requests (answers to
// other nodes' requests are ignored by id).
func (a *pubsubNS) onResponse(_ string, payload []byte) {
	var r struct {
		RequestID string       `json:"requestId" msgpack:"requestId"`
		Sockets   []nodeSocket `json:"sockets" msgpack:"sockets"`
	}
	if err := decodeEither(payload, &r); err != nil || r.RequestID == "" {
		return
	}
	a.pending.answer(r.RequestID, r.Sockets)
}

// otherNodes counts the subscribers of channel but this node.
func (c *Cluster) otherNodes(ctx context.Context, channel string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	res, err := c.cmd.PubSubNumSub(ctx, channel).Result()
	if err != nil {
		c.noteError(err)
		return 0, fmt.Errorf("counting the nodes: %w", err)
	}
	return max(int(res[channel])-1, 0), nil
}
