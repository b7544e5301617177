package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/sockside/sockside/internal/socketio"
)

// This file holds what pubsub.go and streams.go share: the wire formats of
// Node's @socket.io/redis-adapter and @socket.io/redis-streams-adapter as
// both write and read them, the node's one subscription, and the requests
// waiting for other nodes' answers.

// AdapterFor is the namespaces' adapter constructor for the cluster's mode;
// recovery is the connection state recovery window (0: off), for which the
// streams adapter keeps sessions in Redis.
func (c *Cluster) AdapterFor(recovery time.Duration) socketio.AdapterFor {
	return func(n *socketio.Namespace) socketio.Adapter {
		if c.mode == ModeStreams {
			return newStreamsNS(c, n, recovery)
		}
		return newPubSubNS(c, n)
	}
}

// randomUID is a node's id on the wire (Node's adapters use 6 to 16
// random characters; any unique string does).
func randomUID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// wirePacket is a Socket.IO packet as the adapters carry it.
type wirePacket struct {
	Type int    `msgpack:"type" json:"type"`
	Data []any  `msgpack:"data" json:"data"`
	Nsp  string `msgpack:"nsp" json:"nsp"`
	ID   *int64 `msgpack:"id,omitempty" json:"id,omitempty"`
}

// wireOpts are a broadcast's options: both room lists always present (Node
// calls indexOf on them), and only the flags that are set (Node tests flags
// for presence, not truth).
type wireOpts struct {
	Rooms  []string       `msgpack:"rooms" json:"rooms"`
	Except []string       `msgpack:"except" json:"except"`
	Flags  map[string]any `msgpack:"flags,omitempty" json:"flags,omitempty"`
}

func optsOf(b socketio.Broadcast) wireOpts {
	o := wireOpts{Rooms: b.Rooms, Except: b.Except, Flags: map[string]any{}}
	if o.Rooms == nil {
		o.Rooms = []string{}
	}
	if o.Except == nil {
		o.Except = []string{}
	}
	if b.Volatile {
		o.Flags["volatile"] = true
	}
	return o
}

func (o wireOpts) broadcast() socketio.Broadcast {
	b := socketio.Broadcast{Rooms: o.Rooms, Except: o.Except}
	if v, ok := o.Flags["volatile"]; ok && v != false && v != nil {
		b.Volatile = true
	}
	return b
}

// eventPacket is a broadcast's packet: its data JSON-like (see plain).
func eventPacket(nsp string, m socketio.Message) wirePacket {
	data := make([]any, len(m.Data))
	for i, v := range m.Data {
		data[i] = plain(v)
	}
	return wirePacket{Type: 2, Data: data, Nsp: nsp}
}

// remoteMessage is a received broadcast's packet as the namespace takes it;
// false for what is not a plain event (acks cannot cross nodes here).
func (p wirePacket) message(o wireOpts) (socketio.Message, bool) {
	if p.Type != 2 || p.ID != nil || len(p.Data) == 0 {
		return socketio.Message{}, false
	}
	if _, ok := p.Data[0].(string); !ok {
		return socketio.Message{}, false
	}
	b := o.broadcast()
	b.Local = true
	return socketio.Message{Data: p.Data, Broadcast: b}, true
}

// nodeSocket is one socket of a fetch answer.
type nodeSocket struct {
	ID        string         `msgpack:"id" json:"id"`
	Handshake map[string]any `msgpack:"handshake" json:"handshake"`
	Rooms     []string       `msgpack:"rooms" json:"rooms"`
	Data      any            `msgpack:"data" json:"data"`
}

func nodeSockets(list []socketio.SocketInfo) []nodeSocket {
	out := make([]nodeSocket, len(list))
	for i, s := range list {
		out[i] = nodeSocket{ID: s.ID, Handshake: s.Handshake, Rooms: s.Rooms, Data: plain(s.Data)}
	}
	return out
}

func (w nodeSocket) info() socketio.SocketInfo {
	return socketio.SocketInfo{ID: w.ID, Handshake: w.Handshake, Rooms: w.Rooms, Data: w.Data}
}

// collector is a request of this node waiting for the other nodes'
// answers: fetchSockets, for now.
type collector struct {
	mu       sync.Mutex
	requests map[string]*collecting
}

type collecting struct {
	expected, got int
	sockets       []socketio.SocketInfo
	done          chan struct{}
}

// open registers request id expecting n answers.
func (c *collector) open(id string, n int) *collecting {
	r := &collecting{expected: n, done: make(chan struct{})}
	c.mu.Lock()
	if c.requests == nil {
		c.requests = make(map[string]*collecting)
	}
	c.requests[id] = r
	c.mu.Unlock()
	return r
}

// answer records one node's answer to request id (unknown ids are other
// nodes' requests, or late answers).
func (c *collector) answer(id string, sockets []nodeSocket) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.requests[id]
	if !ok {
		return
	}
	for _, s := range sockets {
		r.sockets = append(r.sockets, s.info())
	}
	r.got++
	if r.got >= r.expected {
		delete(c.requests, id)
		close(r.done)
	}
}

// publish sends payload on channel (an error is a Redis away, counted).
func (c *Cluster) publish(channel string, payload []byte) error {
	ctx, cancel := context.WithTimeout(c.ctx, 2*time.Second)
	defer cancel()
	if err := c.cmd.Publish(ctx, channel, payload).Err(); err != nil {
		c.noteError(err)
		return err
	}
	return nil
}

// drop forgets request id (it could not be sent).
func (c *collector) drop(id string) {
	c.mu.Lock()
	delete(c.requests, id)
	c.mu.Unlock()
}

// wait returns the sockets the answers listed, or an error when ctx ends
// (or the timeout passes) first.
func (c *collector) wait(ctx context.Context, id string, r *collecting, timeout time.Duration) ([]socketio.SocketInfo, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-r.done:
		return r.sockets, nil
	case <-ctx.Done():
	case <-t.C:
	}
	c.mu.Lock()
	delete(c.requests, id)
	got, expected := r.got, r.expected
	c.mu.Unlock()
	return nil, fmt.Errorf("timeout reached: %d of %d nodes answered", got, expected)
}

// subscriber is the node's one pub/sub connection for the own core's
// adapters: every namespace's channels and patterns on it, each message
// handed to the handler of its channel or pattern, on one goroutine (a
// handler that needs Redis again does it on another).
type subscriber struct {
	c  *Cluster
	ps *redis.PubSub

	mu       sync.RWMutex
	channels map[string]func(channel string, payload []byte)
	patterns map[string]func(channel string, payload []byte)
	started  bool
	done     chan struct{}
}

func newSubscriber(c *Cluster) *subscriber {
	return &subscriber{
		c: c, ps: c.sub.Subscribe(c.ctx),
		channels: make(map[string]func(string, []byte)),
		patterns: make(map[string]func(string, []byte)),
		done:     make(chan struct{}),
	}
}

// subscribe routes channels (and, with pattern, the channels it matches)
// to h.
func (s *subscriber) subscribe(h func(string, []byte), pattern string, channels ...string) {
	s.mu.Lock()
	for _, ch := range channels {
		s.channels[ch] = h
	}
	if pattern != "" {
		s.patterns[pattern] = h
	}
	start := !s.started
	s.started = true
	s.mu.Unlock()
	// go-redis sends the commands when connected and again after each
	// reconnect; an error here is a Redis away, which the monitor reports.
	if err := s.ps.Subscribe(s.c.ctx, channels...); err != nil {
		s.c.noteError(err)
	}
	if pattern != "" {
		if err := s.ps.PSubscribe(s.c.ctx, pattern); err != nil {
			s.c.noteError(err)
		}
	}
	if start {
		go s.run()
	}
}

// unsubscribe drops what subscribe routed.
func (s *subscriber) unsubscribe(pattern string, channels ...string) {
	s.mu.Lock()
	for _, ch := range channels {
		delete(s.channels, ch)
	}
	if pattern != "" {
		delete(s.patterns, pattern)
	}
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = s.ps.Unsubscribe(ctx, channels...)
	if pattern != "" {
		_ = s.ps.PUnsubscribe(ctx, pattern)
	}
}

func (s *subscriber) run() {
	defer close(s.done)
	for {
		msg, err := s.ps.ReceiveMessage(s.c.ctx)
		if err != nil {
			if s.c.ctx.Err() != nil || errors.Is(err, redis.ErrClosed) {
				return
			}
			s.c.noteError(err)
			s.c.pause(s.c.ctx)
			continue
		}
		s.mu.RLock()
		h := s.channels[msg.Channel]
		if msg.Pattern != "" {
			h = s.patterns[msg.Pattern]
		}
		s.mu.RUnlock()
		if h != nil {
			h(msg.Channel, []byte(msg.Payload))
		}
	}
}

// close ends the subscription (the cluster is closing).
func (s *subscriber) close() {
	_ = s.ps.Close()
	s.mu.RLock()
	started := s.started
	s.mu.RUnlock()
	if started {
		<-s.done
	}
}

// plain turns a value into JSON-like data (nil, bool, numbers, strings,
// []any, map[string]any) with binary kept as []byte, so that msgpack writes
// what JSON would (field names from json tags: Node's nodes and clients
// read them) and binary stays binary.
func plain(v any) any {
	switch x := v.(type) {
	case nil, bool, string, []byte,
		int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
		return x
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plain(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = plain(e)
		}
		return out
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return nil
		}
		var out any
		if json.Unmarshal(b, &out) != nil {
			return nil
		}
		return out
	}
}

// sessionKeyPrefix matches Node's default ("sio:session:") for the default
// prefix, and is "<prefix>:session:" otherwise.
func sessionKeyPrefix(prefix string) string {
	if prefix == DefaultPrefix {
		return "sio:session:"
	}
	return prefix + ":session:"
}

// decodeEither decodes a pub/sub payload into v: JSON when it starts with
// "{" (Node's adapters send requests as JSON), else msgpack (when they hold
// binary).
func decodeEither(b []byte, v any) error {
	if len(b) > 0 && b[0] == '{' {
		return json.Unmarshal(b, v)
	}
	return msgpack.Unmarshal(b, v)
}
