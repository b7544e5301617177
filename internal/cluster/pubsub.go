package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/vmihailenco/msgpack/v5"
	"github.com/zishang520/socket.io/adapters/adapter/v3"
	libredis "github.com/zishang520/socket.io/adapters/redis/v3"
	rsa "github.com/zishang520/socket.io/adapters/redis/v3/adapter"
	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/servers/socket/v3"
)

// pubsubBuilder wraps the library's RedisAdapterBuilder (compatible with
// Node's @socket.io/redis-adapter). It fixes two defects:
//
//  1. A broadcast to a whole namespace (no room, or several rooms) is
//     published on the namespace channel "<prefix>#<nsp>#" itself, and the
//     library's receive loop ignores any channel not longer than that one,
//     so such broadcasts never reached other nodes, whoever sent them (a Go
//     node, a Node node, or the emitter). The wrapper subscribes to that
//     channel and delivers what arrives there to its local sockets.
//  2. Broadcasts are msgpack-encoded as they are, so an application struct
//     reached the other nodes' clients with Go field names ({"Text": ...}
//     for {"text": ...}). The wrapper makes packet data JSON-like first.
//  3. serverSideEmit replies (see wire.go): the library collects a reply
//     only when it is a list, so a Node node's reply was dropped and the
//     request timed out. The wrapper sends serverSideEmit-with-ack requests
//     itself and collects the replies from the response channels; the
//     library's own replies are made Node-shaped by nodeReplies.
type pubsubBuilder struct {
	c      *Cluster
	prefix string
	inner  *rsa.RedisAdapterBuilder
}

// New implements socket.AdapterConstructor.
func (b *pubsubBuilder) New(nsp socket.Namespace) socket.Adapter {
	inner, ok := b.inner.New(nsp).(rsa.RedisAdapter)
	if !ok {
		panic("cluster: the pubsub builder returned an unexpected adapter type")
	}
	a := &pubsubAdapter{
		RedisAdapter:    inner,
		c:               b.c,
		channel:         b.prefix + "#" + nsp.Name() + "#",
		requestChannel:  b.prefix + "-request#" + nsp.Name() + "#",
		responseChannel: b.prefix + "-response#" + nsp.Name() + "#",
		done:            make(chan struct{}),
	}
	a.ctx, a.cancel = context.WithCancel(context.Background())
	// Replies come on the namespace's response channel (Node's default and
	// the library's), or on this node's own one (Node's
	// publishOnSpecificResponseChannel).
	a.sub = b.c.sub.Subscribe(a.ctx, a.channel, a.responseChannel, a.responseChannel+string(inner.Uid())+"#")
	go a.listen()
	return a
}

type pubsubAdapter struct {
	rsa.RedisAdapter

	c               *Cluster
	channel         string // broadcasts to the whole namespace
	requestChannel  string
	responseChannel string
	ctx             context.Context
	cancel          context.CancelFunc
	sub             *redis.PubSub
	done            chan struct{}
	pending         pending // this node's serverSideEmit requests with ack
}

func (a *pubsubAdapter) Broadcast(p *parser.Packet, opts *socket.BroadcastOptions) {
	a.RedisAdapter.Broadcast(plainPacket(p), opts)
}

func (a *pubsubAdapter) BroadcastWithAck(p *parser.Packet, opts *socket.BroadcastOptions, count func(uint64), ack socket.Ack) {
	a.RedisAdapter.BroadcastWithAck(plainPacket(p), opts, count, ack)
}

// ServerSideEmit sends an event to the other nodes; with a trailing
// socket.Ack it waits for every other node's reply (one value each, passed
// to the ack as a one-element list per node).
func (a *pubsubAdapter) ServerSideEmit(packet []any) error {
	if len(packet) == 0 {
		return errors.New("serverSideEmit: empty packet")
	}
	ack, withAck := packet[len(packet)-1].(socket.Ack)
	if !withAck {
		return a.RedisAdapter.ServerSideEmit(packet)
	}
	expected := int(a.ServerCount()) - 1
	if expected <= 0 {
		ack([]any{}, nil)
		return nil
	}
	id := adapter.RandomId()
	// The request as Node's adapter writes it (JSON, read by Go and Node).
	payload, err := json.Marshal(map[string]any{
		"uid": a.Uid(), "requestId": id, "type": libredis.SERVER_SIDE_EMIT, "data": plain(packet[:len(packet)-1]),
	})
	if err != nil {
		return fmt.Errorf("serverSideEmit: encoding: %w", err)
	}
	a.pending.track(id, &request{
		kind:     adapter.SERVER_SIDE_EMIT,
		expected: expected,
		replies:  []any{},
		finish:   func(r *request, err error) { ack(r.replies, err) },
	}, a.c.requestTimeout)
	ctx, cancel := context.WithTimeout(a.ctx, 2*time.Second)
	defer cancel()
	if err := a.c.cmd.Publish(ctx, a.requestChannel, payload).Err(); err != nil {
		a.c.noteError(err)
		if r := a.pending.take(id); r != nil {
			r.timer.Stop()
		}
		return fmt.Errorf("serverSideEmit: %w", err)
	}
	return nil
}

// wireReply is a response on the response channels, as far as the wrapper
// reads it (JSON from Node and the library; msgpack when it holds binary).
type wireReply struct {
	Type      adapter.MessageType `json:"type" msgpack:"type"`
	RequestId string              `json:"requestId" msgpack:"requestId"`
	Data      any                 `json:"data" msgpack:"data"`
}

// onReply records a serverSideEmit reply to one of this node's requests;
// everything else on the response channels is the library's.
func (a *pubsubAdapter) onReply(payload []byte) {
	var r wireReply
	var err error
	if len(payload) > 0 && payload[0] == '{' {
		err = json.Unmarshal(payload, &r)
	} else {
		err = msgpack.Unmarshal(payload, &r)
	}
	if err != nil || r.Type != libredis.SERVER_SIDE_EMIT {
		return
	}
	a.pending.answer(r.RequestId, func(req *request) { req.replies = append(req.replies, []any{r.Data}) })
}

// listen delivers namespace-wide broadcasts from other nodes locally and
// collects serverSideEmit replies.
func (a *pubsubAdapter) listen() {
	defer close(a.done)
	for {
		msg, err := a.sub.ReceiveMessage(a.ctx)
		if err != nil {
			if a.ctx.Err() != nil || errors.Is(err, redis.ErrClosed) {
				return
			}
			a.c.noteError(err)
			a.c.pause(a.ctx)
			continue
		}
		if msg.Channel != a.channel {
			a.onReply([]byte(msg.Payload))
			continue
		}
		var p libredis.RedisPacket
		if err := msgpack.Unmarshal([]byte(msg.Payload), &p); err != nil || p.Packet == nil || p.Uid == a.Uid() {
			continue
		}
		if p.Packet.Nsp == "" {
			p.Packet.Nsp = "/"
		}
		if p.Packet.Nsp != a.Nsp().Name() {
			continue
		}
		opts := adapter.DecodeOptions(p.Opts)
		if opts.Flags == nil {
			opts.Flags = &socket.BroadcastFlags{}
		}
		opts.Flags.Local = true
		a.RedisAdapter.Broadcast(p.Packet, opts)
	}
}

func (a *pubsubAdapter) Close() {
	a.cancel()
	_ = a.sub.Close()
	<-a.done
	a.pending.closeAll()
	a.RedisAdapter.Close()
}

// nodeReplies is the command client the library publishes with; it makes
// the library's responses on the response channels readable to Node's
// redis-adapter:
//
//   - serverSideEmit replies carry the listener's first ack argument
//     instead of the whole list, as Node's listeners reply (see wire.go);
//   - fetchSockets, allSockets and allRooms answers always carry their
//     "sockets" and "rooms" arrays. The library omits empty ones, and Node
//     counts such an answer but finishes the request only on one that has
//     the array, so when the last node to answer had no matching socket
//     Node's fetchSockets timed out (whichever answer came last decided).
type nodeReplies struct {
	redis.UniversalClient
	responsePrefix string // "<prefix>-response#"
}

// Publish implements redis.UniversalClient.
func (c nodeReplies) Publish(ctx context.Context, channel string, message any) *redis.IntCmd {
	if b, ok := message.([]byte); ok && strings.HasPrefix(channel, c.responsePrefix) {
		message = nodeResponse(b)
	}
	return c.UniversalClient.Publish(ctx, channel, message)
}

// nodeResponse rewrites a JSON response of the library in Node's shape
// (see nodeReplies); anything else is returned as it is.
func nodeResponse(b []byte) []byte {
	if len(b) == 0 || b[0] != '{' {
		return b
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(b, &m) != nil {
		return b
	}
	rawType, typed := m["type"]
	if !typed {
		// the answers to SOCKETS, ALL_ROOMS and REMOTE_FETCH (and the acks
		// of REMOTE_JOIN/LEAVE/DISCONNECT, where Node ignores both fields)
		for _, key := range []string{"sockets", "rooms"} {
			if _, ok := m[key]; !ok {
				m[key] = json.RawMessage("[]")
			}
		}
	} else {
		var typ adapter.MessageType
		if json.Unmarshal(rawType, &typ) != nil || typ != libredis.SERVER_SIDE_EMIT {
			return b
		}
		var args []json.RawMessage
		if raw, ok := m["data"]; ok {
			if json.Unmarshal(raw, &args) != nil {
				return b // already one value
			}
		}
		if len(args) == 0 {
			delete(m, "data")
		} else {
			m["data"] = args[0]
		}
	}
	out, err := json.Marshal(m)
	if err != nil {
		return b
	}
	return out
}

// plainPacket copies p with JSON-like data.
func plainPacket(p *parser.Packet) *parser.Packet {
	if p == nil {
		return nil
	}
	out := *p
	out.Data = plain(p.Data)
	return &out
}
