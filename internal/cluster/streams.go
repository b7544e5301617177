package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/vmihailenco/msgpack/v5"
	"github.com/zishang520/socket.io/adapters/adapter/v3"
	rsa "github.com/zishang520/socket.io/adapters/redis/v3/adapter"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// streamsBuilder wraps the library's RedisStreamsAdapterBuilder. The
// library keeps the durable half (broadcasts and room changes in the
// stream, the stream reader, session persistence and restore); the wrapper
// replaces the request/response half, which the library gets wrong:
//
//  1. fetchSockets and serverSideEmit-with-ack wait for no other node: the
//     embedded ClusterAdapter calls its own base ServerCount (always 1)
//     instead of the streams adapter's (PUBSUB NUMSUB). The wrapper counts
//     servers itself and tracks the requests.
//  2. every pub/sub message (requests and responses alike) is dropped on
//     arrival: the library decodes its data into a map that its dispatcher
//     rejects. The wrapper subscribes itself and decodes by message type.
//  3. what Go writes is unreadable to Node in places (see wire.go).
//
// The library still subscribes each adapter to its own channels; they are
// moved to an unused channel prefix so that they neither double-count this
// node in PUBSUB NUMSUB nor see any traffic.
type streamsBuilder struct {
	c     *Cluster
	inner *rsa.RedisStreamsAdapterBuilder
	// channelPrefix is the real (Node-compatible) pub/sub channel prefix.
	channelPrefix string
}

// unusedChannelSuffix moves the library's own subscriptions out of the way.
const unusedChannelSuffix = "#sockside-unused"

func newStreamsBuilder(c *Cluster) *streamsBuilder {
	opts := rsa.DefaultRedisStreamsAdapterOptions()
	opts.SetStreamName(c.prefix)
	opts.SetChannelPrefix(c.prefix + unusedChannelSuffix)
	opts.SetSessionKeyPrefix(sessionKeyPrefix(c.prefix))
	return &streamsBuilder{
		c:             c,
		inner:         &rsa.RedisStreamsAdapterBuilder{Redis: c.lib, Opts: opts},
		channelPrefix: c.prefix,
	}
}

// sessionKeyPrefix matches Node's default ("sio:session:") for the default
// prefix, and is "<prefix>:session:" otherwise.
func sessionKeyPrefix(prefix string) string {
	if prefix == DefaultPrefix {
		return rsa.DefaultSessionKeyPrefix
	}
	return prefix + ":session:"
}

// New implements socket.AdapterConstructor.
func (b *streamsBuilder) New(nsp socket.Namespace) socket.Adapter {
	inner, ok := b.inner.New(nsp).(rsa.RedisStreamsAdapter)
	if !ok {
		panic("cluster: the streams builder returned an unexpected adapter type")
	}
	a := &streamsAdapter{
		RedisStreamsAdapter: inner,
		c:                   b.c,
		public:              b.channelPrefix + "#" + nsp.Name() + "#",
		channelPrefix:       b.channelPrefix,
		timeout:             b.c.requestTimeout,
	}
	a.private = a.public + string(inner.Uid()) + "#"
	// The library publishes through its prototype (DoPublish and
	// DoPublishResponse); point it at the wrapper.
	inner.Prototype(a)
	a.ctx, a.cancel = context.WithCancel(context.Background())
	a.sub = b.c.sub.Subscribe(a.ctx, a.public, a.private)
	a.done = make(chan struct{})
	go a.listen()
	return a
}

// streamsAdapter is the library's streams adapter with the request/response
// half replaced (see streamsBuilder).
type streamsAdapter struct {
	rsa.RedisStreamsAdapter

	c             *Cluster
	public        string // requests to every node of the namespace
	private       string // responses to this node
	channelPrefix string
	timeout       time.Duration

	ctx    context.Context
	cancel context.CancelFunc
	sub    *redis.PubSub
	done   chan struct{}

	pending pending
}

// ServerCount is the number of servers subscribed to the namespace's public
// channel (Go and Node nodes alike), 1 when Redis cannot tell.
func (a *streamsAdapter) ServerCount() int64 {
	ctx, cancel := context.WithTimeout(a.ctx, time.Second)
	defer cancel()
	res, err := a.c.cmd.PubSubNumSub(ctx, a.public).Result()
	if err != nil {
		a.c.noteError(err)
		return 1
	}
	if n := res[a.public]; n > 0 {
		return n
	}
	return 1
}

// FetchSockets returns the matching sockets of every node.
func (a *streamsAdapter) FetchSockets(opts *socket.BroadcastOptions) func(func([]socket.SocketDetails, error)) {
	return func(cb func([]socket.SocketDetails, error)) {
		a.RedisStreamsAdapter.FetchSockets(localOnly(opts))(func(local []socket.SocketDetails, err error) {
			if err != nil || isLocal(opts) {
				cb(local, err)
				return
			}
			expected := int(a.ServerCount()) - 1
			if expected <= 0 {
				cb(local, nil)
				return
			}
			id := adapter.RandomId()
			a.pending.track(id, &request{
				kind:     adapter.FETCH_SOCKETS,
				expected: expected,
				sockets:  local,
				finish: func(r *request, err error) {
					if err != nil {
						cb(nil, err)
						return
					}
					cb(r.sockets, nil)
				},
			}, requestTimeout(opts, a.timeout))
			a.Publish(&adapter.ClusterMessage{
				Type: adapter.FETCH_SOCKETS,
				Data: &adapter.FetchSocketsMessage{Opts: adapter.EncodeOptions(opts), RequestId: id},
			})
		})
	}
}

// ServerSideEmit sends an event to the other nodes; with a trailing
// socket.Ack it waits for every other node's reply.
func (a *streamsAdapter) ServerSideEmit(packet []any) error {
	if len(packet) == 0 {
		return errors.New("serverSideEmit: empty packet")
	}
	ack, withAck := packet[len(packet)-1].(socket.Ack)
	if !withAck {
		a.Publish(&adapter.ClusterMessage{Type: adapter.SERVER_SIDE_EMIT, Data: &adapter.ServerSideEmitMessage{Packet: packet}})
		return nil
	}
	expected := int(a.ServerCount()) - 1
	if expected <= 0 {
		ack([]any{}, nil)
		return nil
	}
	id := adapter.RandomId()
	a.pending.track(id, &request{
		kind:     adapter.SERVER_SIDE_EMIT,
		expected: expected,
		replies:  []any{},
		finish:   func(r *request, err error) { ack(r.replies, err) },
	}, a.timeout)
	a.Publish(&adapter.ClusterMessage{
		Type: adapter.SERVER_SIDE_EMIT,
		Data: &adapter.ServerSideEmitMessage{RequestId: &id, Packet: packet[:len(packet)-1]},
	})
	return nil
}

// onResponse records one node's answer to a request of this node.
func (a *streamsAdapter) onResponse(m *adapter.ClusterMessage) {
	switch d := m.Data.(type) {
	case *adapter.FetchSocketsResponse:
		a.pending.answer(d.RequestId, func(r *request) {
			for _, s := range d.Sockets {
				r.sockets = append(r.sockets, adapter.NewRemoteSocket(s))
			}
		})
	case *adapter.ServerSideEmitResponse:
		a.pending.answer(d.RequestId, func(r *request) { r.replies = append(r.replies, d.Packet) })
	}
}

// DoPublish is called by the library (through the prototype) for every
// outgoing message: requests go to the namespace's public channel, the rest
// to the stream, both in Node's encoding.
func (a *streamsAdapter) DoPublish(m *adapter.ClusterMessage) (adapter.Offset, error) {
	if isEphemeral(m) {
		return "", a.publish(a.public, m)
	}
	off, err := a.RedisStreamsAdapter.DoPublish(nodeMessage(m))
	if err != nil {
		a.c.noteError(err)
	}
	return off, err
}

// DoPublishResponse sends a response to the requesting node's own channel.
func (a *streamsAdapter) DoPublishResponse(requester adapter.ServerId, m *adapter.ClusterResponse) error {
	return a.publish(a.channelPrefix+"#"+a.Nsp().Name()+"#"+string(requester)+"#", m)
}

func (a *streamsAdapter) publish(channel string, m *adapter.ClusterMessage) error {
	payload, err := msgpack.Marshal(nodeMessage(m))
	if err != nil {
		return fmt.Errorf("encoding cluster message: %w", err)
	}
	ctx, cancel := context.WithTimeout(a.ctx, 2*time.Second)
	defer cancel()
	if err := a.c.cmd.Publish(ctx, channel, payload).Err(); err != nil {
		a.c.noteError(err)
		return err
	}
	return nil
}

// listen receives the namespace's requests and this node's responses.
func (a *streamsAdapter) listen() {
	defer close(a.done)
	for {
		msg, err := a.sub.ReceiveMessage(a.ctx)
		if err != nil {
			if a.ctx.Err() != nil || errors.Is(err, redis.ErrClosed) {
				return
			}
			a.c.noteError(err)
			a.c.pause(a.ctx) // never spin on a failing connection
			continue
		}
		m, err := decodePubSub([]byte(msg.Payload))
		if err != nil {
			a.c.log.Debug("ignoring cluster message", "channel", msg.Channel, "err", err)
			continue
		}
		if m.Uid == a.Uid() || m.Nsp != a.Nsp().Name() {
			continue
		}
		switch m.Type {
		case adapter.FETCH_SOCKETS_RESPONSE, adapter.SERVER_SIDE_EMIT_RESPONSE:
			a.onResponse(m)
		case adapter.BROADCAST_CLIENT_COUNT, adapter.BROADCAST_ACK:
			a.OnResponse(m)
		default:
			a.OnMessage(m, "")
		}
	}
}

// Close stops the wrapper's subscription, then the library adapter.
func (a *streamsAdapter) Close() {
	a.cancel()
	_ = a.sub.Close()
	<-a.done
	a.pending.closeAll()
	a.RedisStreamsAdapter.Close()
}

func isLocal(opts *socket.BroadcastOptions) bool {
	return opts != nil && opts.Flags != nil && opts.Flags.Local
}

// localOnly copies opts with the local flag set.
func localOnly(opts *socket.BroadcastOptions) *socket.BroadcastOptions {
	out := &socket.BroadcastOptions{
		Rooms:  types.NewSet[socket.Room](),
		Except: types.NewSet[socket.Room](),
		Flags:  &socket.BroadcastFlags{Local: true},
	}
	if opts != nil {
		if opts.Rooms != nil {
			out.Rooms = opts.Rooms
		}
		if opts.Except != nil {
			out.Except = opts.Except
		}
		if opts.Flags != nil {
			f := *opts.Flags
			f.Local = true
			out.Flags = &f
		}
	}
	return out
}

func requestTimeout(opts *socket.BroadcastOptions, def time.Duration) time.Duration {
	if opts != nil && opts.Flags != nil && opts.Flags.Timeout != nil && *opts.Flags.Timeout > 0 {
		return *opts.Flags.Timeout
	}
	return def
}
