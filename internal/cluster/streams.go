package cluster

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/sockside/sockside/internal/socketio"
)

// Message types of Node's ClusterAdapter (socket.io-adapter), which the
// streams adapter uses.
const (
	msgBroadcast            = 3
	msgSocketsJoin          = 4
	msgSocketsLeave         = 5
	msgDisconnectSockets    = 6
	msgFetchSockets         = 7
	msgFetchSocketsResponse = 8
)

// Stream settings as Node's streams adapter has them by default.
const (
	streamMaxLen    = 10_000
	streamReadCount = 100
	// streamBlock bounds one XREAD, and so how long Close waits for it.
	streamBlock = time.Second
	// restoreMaxReads bounds the XRANGE calls of one restore (Node's
	// RESTORE_SESSION_MAX_XRANGE_CALLS).
	restoreMaxReads = 100
)

// streamReader reads the cluster's stream for every namespace of the node
// (one XREAD loop, as Node's adapter has one per stream).
type streamReader struct {
	c      *Cluster
	stream string

	mu    sync.RWMutex
	byNsp map[string]*streamsNS
	once  sync.Once
	done  chan struct{}
}

func newStreamReader(c *Cluster) *streamReader {
	return &streamReader{c: c, stream: c.prefix, byNsp: make(map[string]*streamsNS), done: make(chan struct{})}
}

// start begins reading (Cluster.Start).
func (r *streamReader) start() { r.once.Do(func() { go r.run() }) }

func (r *streamReader) run() {
	defer close(r.done)
	// From the stream's last entry on. Node's adapter reads from "$" on
	// every call until an entry comes, which loses what is added between
	// one empty read and the next; an id as the offset loses nothing.
	offset := ""
	for r.c.ctx.Err() == nil {
		if offset == "" {
			var err error
			if offset, err = r.lastID(); err != nil {
				r.c.noteError(err)
				r.c.pause(r.c.ctx)
				continue
			}
		}
		res, err := r.c.sub.XRead(r.c.ctx, &redis.XReadArgs{Streams: []string{r.stream, offset}, Count: streamReadCount, Block: streamBlock}).Result()
		if err != nil {
			if errors.Is(err, redis.Nil) {
				continue
			}
			if r.c.ctx.Err() != nil || errors.Is(err, redis.ErrClosed) {
				return
			}
			r.c.noteError(err)
			r.c.pause(r.c.ctx)
			continue
		}
		for _, s := range res {
			for _, m := range s.Messages {
				offset = m.ID
				e, ok := streamEntryOf(m)
				if !ok {
					continue
				}
				r.mu.RLock()
				a := r.byNsp[e.nsp]
				r.mu.RUnlock()
				if a != nil {
					a.onStream(e)
				}
			}
		}
	}
}

// lastID is the id of the stream's last entry, "0-0" when it has none.
func (r *streamReader) lastID() (string, error) {
	ctx, cancel := context.WithTimeout(r.c.ctx, 2*time.Second)
	defer cancel()
	last, err := r.c.cmd.XRevRangeN(ctx, r.stream, "+", "-", 1).Result()
	if err != nil {
		return "", fmt.Errorf("reading the stream's last entry: %w", err)
	}
	if len(last) == 0 {
		return "0-0", nil
	}
	return last[0].ID, nil
}

// close waits for the reader to end (the cluster's context is done).
func (r *streamReader) close() {
	r.once.Do(func() { close(r.done) }) // never started: nothing to wait for
	<-r.done
}

// streamEntry is one stream entry as Node writes it: uid, nsp, type (as a
// string) and data (JSON, or base64 msgpack when it holds binary).
type streamEntry struct {
	id, uid, nsp string
	typ          int
	data         string
}

func streamEntryOf(m redis.XMessage) (streamEntry, bool) {
	str := func(k string) string { s, _ := m.Values[k].(string); return s }
	e := streamEntry{id: m.ID, uid: str("uid"), nsp: str("nsp"), data: str("data")}
	t, err := strconv.Atoi(str("type"))
	if err != nil || e.nsp == "" {
		return e, false
	}
	e.typ = t
	return e, true
}

// decode reads the entry's data into v.
func (e streamEntry) decode(v any) error {
	if strings.HasPrefix(e.data, "{") {
		return json.Unmarshal([]byte(e.data), v)
	}
	b, err := base64.StdEncoding.DecodeString(e.data)
	if err != nil {
		return fmt.Errorf("stream entry %s: %w", e.id, err)
	}
	return msgpack.Unmarshal(b, v)
}

// encodeStreamData is data as Node writes it in an entry.
func encodeStreamData(v any, binary bool) (string, error) {
	if binary {
		b, err := msgpack.Marshal(v)
		if err != nil {
			return "", err
		}
		return base64.StdEncoding.EncodeToString(b), nil
	}
	b, err := json.Marshal(v)
	return string(b), err
}

// streamBroadcast is a BROADCAST entry's data.
type streamBroadcast struct {
	Packet    wirePacket `json:"packet" msgpack:"packet"`
	Opts      wireOpts   `json:"opts" msgpack:"opts"`
	RequestID *string    `json:"requestId,omitempty" msgpack:"requestId,omitempty"`
}

// streamRooms is a SOCKETS_JOIN, SOCKETS_LEAVE or DISCONNECT_SOCKETS
// entry's data.
type streamRooms struct {
	Opts  wireOpts `json:"opts" msgpack:"opts"`
	Rooms []string `json:"rooms,omitempty" msgpack:"rooms,omitempty"`
	Close bool     `json:"close,omitempty" msgpack:"close,omitempty"`
}

// clusterMessage is a pub/sub message of the streams adapter (msgpack).
type clusterMessage struct {
	UID  string             `msgpack:"uid"`
	Nsp  string             `msgpack:"nsp"`
	Type int                `msgpack:"type"`
	Data msgpack.RawMessage `msgpack:"data,omitempty"`
}

// streamsNS is one namespace on @socket.io/redis-streams-adapter's
// formats: broadcasts and room changes in the stream, fetches over pub/sub
// ("<prefix>#<nsp>#" to all, "...#<uid>#" to one node), sessions under
// the session key prefix.
type streamsNS struct {
	c        *Cluster
	n        *socketio.Namespace
	public   string
	private  string
	recovery time.Duration
	pending  collector
}

func newStreamsNS(c *Cluster, n *socketio.Namespace, recovery time.Duration) *streamsNS {
	a := &streamsNS{c: c, n: n, public: c.prefix + "#" + n.Name() + "#", recovery: recovery}
	a.private = a.public + c.uid + "#"
	c.streams.mu.Lock()
	c.streams.byNsp[n.Name()] = a
	c.streams.mu.Unlock()
	c.subs.subscribe(a.onPubSub, "", a.public, a.private)
	return a
}

func (a *streamsNS) Close() {
	a.c.streams.mu.Lock()
	if a.c.streams.byNsp[a.n.Name()] == a {
		delete(a.c.streams.byNsp, a.n.Name())
	}
	a.c.streams.mu.Unlock()
	a.c.subs.unsubscribe("", a.public, a.private)
}

// xadd appends a message of type typ to the stream; it returns its id.
func (a *streamsNS) xadd(typ int, data any, binary bool) (string, error) {
	enc, err := encodeStreamData(data, binary)
	if err != nil {
		return "", fmt.Errorf("encoding a stream entry: %w", err)
	}
	ctx, cancel := context.WithTimeout(a.c.ctx, 2*time.Second)
	defer cancel()
	id, err := a.c.cmd.XAdd(ctx, &redis.XAddArgs{
		Stream: a.c.prefix, MaxLen: streamMaxLen, Approx: true,
		Values: []any{"uid", a.c.uid, "nsp", a.n.Name(), "type", strconv.Itoa(typ), "data", enc},
	}).Result()
	if err != nil {
		a.c.noteError(err)
		return "", err
	}
	return id, nil
}

// Publish adds the broadcast to the stream; its entry id is its recovery
// offset.
func (a *streamsNS) Publish(m socketio.Message, recoverable bool) (string, error) {
	p := eventPacket(a.n.Name(), m)
	id, err := a.xadd(msgBroadcast, streamBroadcast{Packet: p, Opts: optsOf(m.Broadcast)}, socketio.HasBinary(p.Data))
	if !recoverable {
		id = ""
	}
	return id, err
}

func (a *streamsNS) AddSockets(b socketio.Broadcast, rooms []string) error {
	_, err := a.xadd(msgSocketsJoin, streamRooms{Opts: optsOf(b), Rooms: rooms}, false)
	return err
}

func (a *streamsNS) DelSockets(b socketio.Broadcast, rooms []string) error {
	_, err := a.xadd(msgSocketsLeave, streamRooms{Opts: optsOf(b), Rooms: rooms}, false)
	return err
}

func (a *streamsNS) DisconnectSockets(b socketio.Broadcast, closeConn bool) error {
	_, err := a.xadd(msgDisconnectSockets, streamRooms{Opts: optsOf(b), Close: closeConn}, false)
	return err
}

// publishMessage sends a pub/sub message of the streams adapter.
func (a *streamsNS) publishMessage(channel string, typ int, data any) error {
	raw, err := msgpack.Marshal(data)
	if err != nil {
		return fmt.Errorf("encoding a message: %w", err)
	}
	payload, err := msgpack.Marshal(clusterMessage{UID: a.c.uid, Nsp: a.n.Name(), Type: typ, Data: raw})
	if err != nil {
		return fmt.Errorf("encoding a message: %w", err)
	}
	return a.c.publish(channel, payload)
}

// fetchRequest is a FETCH_SOCKETS message's data; fetchAnswer its answer's.
type fetchRequest struct {
	Opts      wireOpts `msgpack:"opts"`
	RequestID string   `msgpack:"requestId"`
}

type fetchAnswer struct {
	RequestID string       `msgpack:"requestId"`
	Sockets   []nodeSocket `msgpack:"sockets"`
}

// FetchSockets asks the other subscribers of the public channel (none with
// Redis away, as in pubsubNS.FetchSockets).
func (a *streamsNS) FetchSockets(ctx context.Context, b socketio.Broadcast) ([]socketio.SocketInfo, error) {
	others, err := a.c.otherNodes(ctx, a.public)
	if err != nil || others == 0 {
		return nil, nil
	}
	id := randomUID()
	r := a.pending.open(id, others)
	if err := a.publishMessage(a.public, msgFetchSockets, fetchRequest{Opts: optsOf(b), RequestID: id}); err != nil {
		a.pending.drop(id)
		return nil, nil
	}
	return a.pending.wait(ctx, id, r, a.c.requestTimeout)
}

// onStream is a stream entry of this namespace.
func (a *streamsNS) onStream(e streamEntry) {
	if e.uid == a.c.uid {
		return
	}
	switch e.typ {
	case msgBroadcast:
		var d streamBroadcast
		if e.decode(&d) != nil || d.RequestID != nil {
			return // broadcasts with acks do not cross nodes in the own core
		}
		if m, ok := d.Packet.message(d.Opts); ok {
			_ = a.n.RemoteBroadcast(m, e.id)
		}
	case msgSocketsJoin, msgSocketsLeave, msgDisconnectSockets:
		var d streamRooms
		if e.decode(&d) != nil {
			return
		}
		b := d.Opts.broadcast()
		switch e.typ {
		case msgSocketsJoin:
			a.n.RemoteAddSockets(b, d.Rooms)
		case msgSocketsLeave:
			a.n.RemoteDelSockets(b, d.Rooms)
		default:
			a.n.RemoteDisconnectSockets(b, d.Close)
		}
	}
}

// onPubSub is a request to every node or an answer to this one.
func (a *streamsNS) onPubSub(_ string, payload []byte) {
	var m clusterMessage
	if msgpack.Unmarshal(payload, &m) != nil || m.UID == a.c.uid || m.Nsp != a.n.Name() {
		return
	}
	switch m.Type {
	case msgFetchSockets:
		var r fetchRequest
		if msgpack.Unmarshal(m.Data, &r) != nil {
			return
		}
		sockets := nodeSockets(a.n.LocalSockets(r.Opts.broadcast()))
		go func() {
			_ = a.publishMessage(a.public+m.UID+"#", msgFetchSocketsResponse, fetchAnswer{RequestID: r.RequestID, Sockets: sockets})
		}()
	case msgFetchSocketsResponse:
		var r fetchAnswer
		if msgpack.Unmarshal(m.Data, &r) == nil {
			a.pending.answer(r.RequestID, r.Sockets)
		}
	}
	// Server-side emits and broadcasts with acks: no listeners here (see
	// pubsubNS.onRequest).
}

// Sessions keeps recovery sessions in Redis, where every node finds them.
func (a *streamsNS) Sessions() socketio.SessionStore {
	if a.recovery <= 0 {
		return nil
	}
	return streamSessions{a}
}

// streamSessions is the streams adapter's session store: a session is
// base64 msgpack {sid, pid, rooms, data} under "<session prefix><pid>" for
// the recovery window; the broadcasts it missed are the stream's entries
// after its offset.
type streamSessions struct{ a *streamsNS }

var streamOffset = regexp.MustCompile(`^[0-9]+-[0-9]+$`)

func (s streamSessions) key(pid string) string { return sessionKeyPrefix(s.a.c.prefix) + pid }

func (s streamSessions) Persist(sess socketio.Session) error {
	sess.Data = plain(sess.Data)
	b, err := msgpack.Marshal(sess)
	if err != nil {
		return fmt.Errorf("encoding a session: %w", err)
	}
	ctx, cancel := context.WithTimeout(s.a.c.ctx, 2*time.Second)
	defer cancel()
	if err := s.a.c.cmd.Set(ctx, s.key(sess.PID), base64.StdEncoding.EncodeToString(b), s.a.recovery).Err(); err != nil {
		s.a.c.noteError(err)
		return fmt.Errorf("storing a session: %w", err)
	}
	return nil
}

func (s streamSessions) Restore(pid, offset string) (*socketio.Session, error) {
	if !streamOffset.MatchString(offset) {
		return nil, socketio.ErrNoSession
	}
	a := s.a
	ctx, cancel := context.WithTimeout(a.c.ctx, 5*time.Second)
	defer cancel()
	var get *redis.StringCmd
	var at *redis.XMessageSliceCmd
	_, err := a.c.cmd.TxPipelined(ctx, func(p redis.Pipeliner) error {
		get = p.Get(ctx, s.key(pid))
		p.Del(ctx, s.key(pid))
		at = p.XRange(ctx, a.c.prefix, offset, offset)
		return nil
	})
	if errors.Is(err, redis.Nil) || err == nil && (get.Val() == "" || len(at.Val()) == 0) {
		return nil, socketio.ErrNoSession
	}
	if err != nil {
		a.c.noteError(err)
		return nil, fmt.Errorf("reading a session: %w", err)
	}
	raw, err := base64.StdEncoding.DecodeString(get.Val())
	if err != nil {
		return nil, fmt.Errorf("session %s: %w", pid, err)
	}
	var sess socketio.Session
	if err := msgpack.Unmarshal(raw, &sess); err != nil {
		return nil, fmt.Errorf("session %s: %w", pid, err)
	}
	for range restoreMaxReads {
		entries, err := a.c.cmd.XRangeN(ctx, a.c.prefix, "("+offset, "+", 1000).Result()
		if err != nil {
			a.c.noteError(err)
			return nil, fmt.Errorf("reading the missed broadcasts: %w", err)
		}
		if len(entries) == 0 {
			break
		}
		for _, m := range entries {
			offset = m.ID
			e, ok := streamEntryOf(m)
			if !ok || e.nsp != a.n.Name() || e.typ != msgBroadcast {
				continue
			}
			var d streamBroadcast
			if e.decode(&d) != nil || d.RequestID != nil {
				continue
			}
			msg, ok := d.Packet.message(d.Opts)
			if !ok || msg.Volatile || !msg.Included(sess.Rooms) {
				continue
			}
			enc, err := socketio.EncodeEvent(a.n.Name(), msg.Data)
			if err != nil {
				continue
			}
			sess.Missed = append(sess.Missed, enc.WithOffset(e.id))
		}
	}
	return &sess, nil
}
