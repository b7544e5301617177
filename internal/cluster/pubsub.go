package cluster

import (
	"context"
	"errors"

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
	a := &pubsubAdapter{RedisAdapter: inner, c: b.c, channel: b.prefix + "#" + nsp.Name() + "#", done: make(chan struct{})}
	a.ctx, a.cancel = context.WithCancel(context.Background())
	a.sub = b.c.sub.Subscribe(a.ctx, a.channel)
	go a.listen()
	return a
}

type pubsubAdapter struct {
	rsa.RedisAdapter

	c       *Cluster
	channel string
	ctx     context.Context
	cancel  context.CancelFunc
	sub     *redis.PubSub
	done    chan struct{}
}

func (a *pubsubAdapter) Broadcast(p *parser.Packet, opts *socket.BroadcastOptions) {
	a.RedisAdapter.Broadcast(plainPacket(p), opts)
}

func (a *pubsubAdapter) BroadcastWithAck(p *parser.Packet, opts *socket.BroadcastOptions, count func(uint64), ack socket.Ack) {
	a.RedisAdapter.BroadcastWithAck(plainPacket(p), opts, count, ack)
}

// listen delivers namespace-wide broadcasts from other nodes locally.
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
	a.RedisAdapter.Close()
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
