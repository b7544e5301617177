package engineio

import (
	"bytes"
	"errors"
	"io"
	"net"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	ws "github.com/gorilla/websocket"
	"github.com/zishang520/socket.io/parsers/engine/v3/packet"
	"github.com/zishang520/socket.io/servers/engine/v3/transports"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// maxSpareFrames bounds the batch a connection keeps for reuse: one that
// was far behind once does not keep its big batch for life.
const maxSpareFrames = 64

// closeFlushTimeout bounds how long a closing websocket waits for packets
// already handed to it to be written (a peer that stopped reading cannot
// hold a close up for longer).
const closeFlushTimeout = 2 * time.Second

// ErrSlowConsumer is the transport error a websocket peer is cut off with
// when more than Options.SendBuffer bytes are queued for it.
var ErrSlowConsumer = errors.New("slow consumer")

// websocketTransport is sockside's Engine.IO websocket transport. It keeps
// the library's transport base (state, events, parser) and the engine's
// upgrade and gorilla connection for reading, and owns the write side.
//
// Why not the library's (v3.0.5): its write path was most of the server's
// CPU under fan-out (see docs/performance.md): a gorilla
// PreparedMessage built per frame and per socket, one write(2) per frame,
// a goroutine started per send to an idle socket, allocations that fed the
// garbage collector. Here
//   - a broadcast's frame is built once and shared by every receiver
//     (sharedFrames);
//   - frames queue per connection and one writer goroutine, alive only while
//     there is something to write, puts everything queued on the wire in
//     one writev(2);
//   - what is queued is counted, so a peer that stops reading is cut off
//     past Options.SendBuffer (a slow consumer) instead of the engine
//     buffering for it without limit;
//   - a close writes what it was given first, then a close frame, so acks
//     and a kick's reason reach the peer (the library dropped its queue);
//   - server pings are held back until the engine has armed its timeout
//     (pingHold), and packets read before the engine listens are kept for
//     it (packetRelay).
//
// Frames are written to the connection beneath gorilla; gorilla only reads.
// Its own writes (control frames answering a ping or a close) would race
// with ours and leave a write deadline behind, so those answers are queued
// here too. Per-message deflate is not offered (the engine only negotiates
// it when the option is set, and sockside never sets it).
//
// Lock order: pingHold.mu, then mu (pingHold forwards under its lock).
type websocketTransport struct {
	transports.Transport

	conn        *types.WebSocketConn
	raw         net.Conn
	idleTimeout time.Duration

	pings pingHold
	relay packetRelay

	limit    int64 // Options.SendBuffer; 0: unbounded
	onSlow   func(sid string, queued int64)
	coalesce time.Duration // Options.BroadcastCoalesce

	// blocked counts the times Writable said no (the engine then buffers
	// in its socket); readied is the count the writer last answered with
	// "ready", on which the engine flushed that buffer to us. While they
	// differ the engine may hold packets, and sendDirect must not pass them.
	blocked, readied atomic.Uint64
	closeOnce        sync.Once

	mu      sync.Mutex
	out     [][]byte // frames not yet handed to the writer, oldest first
	sends   int      // Sends whose frames are in out (one "drain" each)
	queued  int64    // bytes in out and in the writer's hands
	writing bool     // a writer goroutine runs
	slow    bool     // cut off as a slow consumer
	closing bool     // DoClose ran: nothing more is queued
	flushed chan struct{}
	spare   [][]byte // the writer's previous batch, reused for out

	lastWrite time.Time   // when the writer last started a round
	delay     *time.Timer // writes the broadcast frames held back for coalesce
	delayed   bool        // delay is armed
}

func newWebsocketTransport(ctx *types.HttpContext, settle time.Duration, o Options) *websocketTransport {
	w := &websocketTransport{
		Transport: transports.MakeTransport(),
		pings:     pingHold{settle: settle},
		limit:     o.SendBuffer,
		onSlow:    o.OnSlowConsumer,
		coalesce:  o.BroadcastCoalesce,
	}
	w.Transport.Prototype(w)
	w.Construct(ctx)
	return w
}

func (w *websocketTransport) Construct(ctx *types.HttpContext) {
	w.Transport.Construct(ctx)
	w.idleTimeout = ctx.IdleTimeout
	w.conn = ctx.Websocket
	w.raw = w.conn.NetConn()
	_ = w.Transport.On("packet", w.relay.relay)
	w.conn.SetPingHandler(func(data string) error {
		w.control(opPong, []byte(data))
		return nil
	})
	// The peer's close is echoed at once and directly (a net.Conn write is
	// atomic against the writer's), since the reader closes the connection
	// right after it.
	w.conn.SetCloseHandler(func(code int, _ string) error {
		var payload []byte
		if code != ws.CloseNoStatusReceived {
			payload = ws.FormatCloseMessage(code, "")
		}
		_ = w.raw.SetWriteDeadline(time.Now().Add(time.Second))
		_, _ = w.raw.Write(appendFrame(nil, opClose, payload))
		return nil
	})
	go w.read()
	w.SetWritable(true)
}

func (w *websocketTransport) Name() string          { return transports.WEBSOCKET }
func (w *websocketTransport) HandlesUpgrades() bool { return true }

// read is the connection's reader, for its whole life.
func (w *websocketTransport) read() {
	defer w.OnClose()
	for {
		if w.idleTimeout > 0 {
			_ = w.conn.SetReadDeadline(time.Now().Add(w.idleTimeout))
		}
		mt, r, err := w.conn.NextReader()
		if err != nil {
			// As the library: a close (frame or connection) is a "transport
			// close", anything else a "transport error".
			var ce *ws.CloseError
			if !errors.As(err, &ce) && !errors.Is(err, net.ErrClosed) {
				w.OnError("websocket error", err)
			}
			return
		}
		if mt != ws.TextMessage && mt != ws.BinaryMessage {
			continue
		}
		b, err := readMessage(r)
		if err != nil {
			w.OnError("websocket error", err)
			return
		}
		if mt == ws.TextMessage {
			w.OnData(types.NewStringBuffer(b))
		} else {
			w.OnData(types.NewBytesBuffer(b))
		}
	}
}

// readScratch holds the buffers messages are read into before they are
// copied out at their exact size.
var readScratch = sync.Pool{New: func() any { b := make([]byte, 0, 4<<10); return &b }}

// readScratchMax is the largest scratch buffer kept for reuse.
const readScratchMax = 64 << 10

// readMessage reads a whole message into a buffer of exactly its size.
//
// Why: reading into a growing buffer, as the library did, allocated at
// least 512 bytes for every message, down to the 1-byte pong each idle
// connection sends per ping interval: garbage that made up a good part of
// an idle server's heap.
func readMessage(r io.Reader) ([]byte, error) {
	bp := readScratch.Get().(*[]byte)
	b := (*bp)[:0]
	var err error
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		var n int
		n, err = r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err != nil {
			break
		}
	}
	var out []byte
	if err == io.EOF {
		out, err = bytes.Clone(b), nil
	}
	if cap(b) <= readScratchMax {
		*bp = b[:0]
		readScratch.Put(bp)
	}
	return out, err
}

// On and RemoveListener route "packet" listeners through packetRelay.
func (w *websocketTransport) On(evt types.EventName, listeners ...types.EventListener) error {
	if evt != "packet" {
		return w.Transport.On(evt, listeners...)
	}
	w.relay.add(listeners)
	return nil
}

func (w *websocketTransport) RemoveListener(evt types.EventName, listener types.EventListener) bool {
	if evt != "packet" {
		return w.Transport.RemoveListener(evt, listener)
	}
	return w.relay.remove(listener)
}

// packetRelay is the only "packet" listener on the transport base; it
// passes packets on to the engine's listeners, and keeps those that arrive
// while there is none.
//
// Why: the transport starts reading in its constructor, but on an upgrade
// the engine socket only subscribes in MaybeUpgrade, after the transport is
// built. A client that sends its "2probe" as soon as the websocket opens
// (socket.io-client does) can have it read and emitted to no one: the probe
// is never answered and the client silently stays on long-polling. The
// client sends nothing else before the "3probe" answer, so handing what was
// kept to the first listener keeps the order.
type packetRelay struct {
	mu        sync.Mutex
	listeners []types.EventListener
	kept      [][]any
}

func (r *packetRelay) relay(args ...any) {
	r.mu.Lock()
	if len(r.listeners) == 0 {
		r.kept = append(r.kept, args)
		r.mu.Unlock()
		return
	}
	ls := r.listeners
	r.mu.Unlock()
	for _, l := range ls {
		l(args...)
	}
}

// add subscribes listeners and hands them what was kept, outside the lock:
// a packet may make the engine subscribe again (an early "5" completes the
// upgrade).
func (r *packetRelay) add(listeners []types.EventListener) {
	r.mu.Lock()
	r.listeners = append(r.listeners[:len(r.listeners):len(r.listeners)], listeners...)
	kept := r.kept
	r.kept = nil
	r.mu.Unlock()
	for _, args := range kept {
		for _, l := range listeners {
			l(args...)
		}
	}
}

// remove drops the first listener with the same function, as the library's
// emitter does. The slice is copied, never edited in place: relay calls a
// snapshot outside the lock.
func (r *packetRelay) remove(listener types.EventListener) bool {
	if listener == nil {
		return false
	}
	target := reflect.ValueOf(listener).Pointer()
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, l := range r.listeners {
		if reflect.ValueOf(l).Pointer() == target {
			r.listeners = append(r.listeners[:i:i], r.listeners[i+1:]...)
			return true
		}
	}
	return false
}

// Send queues a batch's frames, holding back one that carries a server ping
// or a handshake packet (see pingHold).
func (w *websocketTransport) Send(packets []*packet.Packet) {
	w.pings.send(w.Protocol(), packets, w.enqueue)
}

// Writable reads false while a ping or handshake is held, so the engine
// socket buffers behind it, and once the peer is cut off or closing.
// Otherwise it reads true even while writing: every packet then comes
// through Send, where it is counted against the send bound.
func (w *websocketTransport) Writable() bool {
	if w.pings.holding() {
		// Count, then look again: a hold that ends after the second look is
		// forwarded to the writer after the count, and the writer says
		// "ready" after writing it.
		w.blocked.Add(1)
		if w.pings.holding() {
			return false
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return !w.slow && !w.closing
}

// enqueue encodes a batch the engine sent into frames and hands them to
// the writer.
func (w *websocketTransport) enqueue(packets []*packet.Packet) { w.push(packets, 1) }

// sendDirect queues one message the Socket.IO layer wrote, without passing
// through the engine socket's buffer (see Direct), and returns its size. It
// declines, and the message takes the engine's way, while the engine may
// hold messages that must go first.
func (w *websocketTransport) sendDirect(data io.Reader, opts *packet.Options) (int, bool) {
	if w.blocked.Load() != w.readied.Load() {
		return 0, false
	}
	n := 0
	if l, ok := data.(interface{ Len() int }); ok {
		n = l.Len()
	}
	if opts != nil && opts.WsPreEncodedFrame != nil && !w.pings.holds.Load() {
		// A room broadcast with nothing held: the shared frame, no packet.
		// (A hold starting meanwhile is a ping, which may be overtaken, or
		// another namespace's CONNECT: this socket's CONNECT to the
		// broadcast's namespace was held before it could join the room.)
		f := broadcastFrames.frame(opts.WsPreEncodedFrame)
		w.queue([][]byte{f}, int64(len(f)), 0, true)
		return n, true
	}
	// Through pingHold: a CONNECT is held until Ready, and whatever
	// follows a held packet queues behind it.
	p := &packet.Packet{Type: packet.MESSAGE, Data: data, Options: opts}
	w.pings.send(w.Protocol(), []*packet.Packet{p}, w.pushDirect)
	return n, true
}

func (w *websocketTransport) pushDirect(packets []*packet.Packet) { w.push(packets, 0) }

// push queues the frames of packets; sends is how many engine Sends they
// complete (each is owed one "drain").
func (w *websocketTransport) push(packets []*packet.Packet, sends int) {
	var small [4][]byte
	frames := small[:0]
	var size int64
	broadcast := true // only room broadcasts' frames may wait (see holdBack)
	for _, p := range packets {
		if p == nil {
			continue
		}
		broadcast = broadcast && p.Options != nil && p.Options.WsPreEncodedFrame != nil
		f, err := w.frame(p)
		if err != nil {
			w.OnError("websocket error", err)
			return
		}
		frames = append(frames, f)
		size += int64(len(f))
	}
	w.queue(frames, size, sends, broadcast)
}

// queue hands frames of size bytes to the writer.
func (w *websocketTransport) queue(frames [][]byte, size int64, sends int, broadcast bool) {
	w.mu.Lock()
	if w.slow || w.closing {
		w.mu.Unlock()
		return
	}
	w.out = append(w.out, frames...)
	w.sends += sends
	w.queued += size
	if w.limit > 0 && w.queued > w.limit {
		w.slow = true
		queued := w.queued
		w.mu.Unlock()
		// Not here: Send runs under the engine socket's flush lock, and
		// closing goes back through the engine.
		go w.cutOff(queued)
		return
	}
	if !broadcast || !w.holdBack() {
		w.startWriter()
	}
	w.mu.Unlock()
}

// holdBack arms the coalescing delay for a broadcast frame, unless it is
// off, a write is under way or due anyway, or the connection has not been
// written to for the delay; it reports whether the frame waits. Callers
// hold mu.
//
// Why: on a busy connection each write(2) costs more than the frame it
// carries (the kernel's TCP path and the peer's wakeup). A connection that
// was written to less than the delay ago gets its next broadcast frames
// together, in one write, at most the delay later; an idle one is written
// at once, so a lone message does not wait, and neither do acks and events
// to one socket (they also take whatever is held with them).
func (w *websocketTransport) holdBack() bool {
	if w.coalesce <= 0 || w.writing {
		return w.writing
	}
	if w.delayed {
		return true
	}
	wait := w.coalesce - time.Since(w.lastWrite)
	if wait <= 0 {
		return false
	}
	w.delayed = true
	if w.delay == nil {
		w.delay = time.AfterFunc(wait, w.writeHeld)
	} else {
		w.delay.Reset(wait)
	}
	return true
}

// writeHeld writes what the coalescing delay held back, unless a writer
// already took it.
func (w *websocketTransport) writeHeld() {
	w.mu.Lock()
	w.delayed = false
	if w.writing || len(w.out) == 0 || w.slow {
		w.mu.Unlock()
		return
	}
	w.writing = true
	w.mu.Unlock()
	w.write()
}

// frame is the websocket frame of an Engine.IO packet; a broadcast's is
// shared (see sharedFrames).
func (w *websocketTransport) frame(p *packet.Packet) ([]byte, error) {
	if p.Options != nil && p.Options.WsPreEncodedFrame != nil {
		return broadcastFrames.frame(p.Options.WsPreEncodedFrame), nil
	}
	data, err := w.Parser().EncodePacket(p, w.SupportsBinary())
	if err != nil {
		return nil, err
	}
	return dataFrame(data), nil
}

// control queues a control frame answering the peer; it counts against no
// Send.
func (w *websocketTransport) control(opcode byte, payload []byte) {
	f := appendFrame(make([]byte, 0, len(payload)+2), opcode, payload)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.slow {
		return
	}
	w.out = append(w.out, f)
	w.queued += int64(len(f))
	w.startWriter()
}

// startWriter starts the writer if none runs; callers hold mu.
func (w *websocketTransport) startWriter() {
	if !w.writing {
		w.writing = true
		go w.write()
	}
}

// write puts everything queued on the wire, one writev(2) per round, until
// the queue is empty; then it exits, so an idle connection has no writer.
func (w *websocketTransport) write() {
	for {
		w.mu.Lock()
		if len(w.out) == 0 || w.slow {
			w.writing = false
			w.checkFlushed()
			w.mu.Unlock()
			return
		}
		batch, sends := w.out, w.sends
		// The spare becomes the queue: it must stop being the spare, or a
		// batch too big to keep would leave it there, and the next round
		// would take it as the queue again while writing it.
		w.out, w.sends, w.spare = w.spare[:0], 0, nil
		if w.coalesce > 0 {
			w.lastWrite = time.Now()
		}
		w.mu.Unlock()

		var size int64
		for _, f := range batch {
			size += int64(len(f))
		}
		bufs := net.Buffers(batch)
		_, err := bufs.WriteTo(w.raw)
		clear(batch) // drop the frames (shared ones live on elsewhere)

		w.mu.Lock()
		w.queued -= size
		if cap(batch) <= maxSpareFrames {
			w.spare = batch
		}
		w.mu.Unlock()
		for range sends {
			w.Emit("drain") // one per Send: the engine runs its send callbacks on it
		}
		if b := w.blocked.Load(); b != w.readied.Load() {
			w.Emit("ready") // the engine flushes what it buffered, in here
			w.readied.Store(b)
		}
		if err != nil {
			w.mu.Lock()
			w.writing = false
			w.out, w.sends = nil, 0
			closing := w.closing || w.slow
			w.checkFlushed()
			w.mu.Unlock()
			if !closing {
				w.OnError("websocket error", err)
				w.Close()
			}
			return
		}
	}
}

// cutOff closes the connection of a peer that fell too far behind: the
// engine sees a transport error, the socket's disconnect reason is
// "transport error", and the close does not wait for the queue.
func (w *websocketTransport) cutOff(queued int64) {
	if w.onSlow != nil {
		w.onSlow(w.Sid(), queued)
	}
	w.OnError("slow consumer", ErrSlowConsumer)
	w.Close()
}

// DoClose writes what was handed over and a close frame, then closes the
// connection (at once for a slow consumer: its queue is why it goes).
func (w *websocketTransport) DoClose(fn types.Callable) {
	w.pings.close()
	w.mu.Lock()
	if !w.slow && !w.closing {
		f := appendFrame(nil, opClose, ws.FormatCloseMessage(ws.CloseNormalClosure, ""))
		w.out = append(w.out, f)
		w.queued += int64(len(f))
		w.startWriter()
	}
	w.closing = true
	if !w.writing || w.slow {
		w.mu.Unlock()
		w.finishClose(fn)
		return
	}
	if w.flushed == nil {
		w.flushed = make(chan struct{})
	}
	flushed := w.flushed
	w.mu.Unlock()
	// DoClose may run on the writer (a failed write closes the transport):
	// wait elsewhere.
	go func() {
		t := time.NewTimer(closeFlushTimeout)
		defer t.Stop()
		select {
		case <-flushed:
		case <-t.C:
		}
		w.finishClose(fn)
	}()
}

func (w *websocketTransport) finishClose(fn types.Callable) {
	if fn != nil {
		fn()
	}
	w.OnClose()
}

// checkFlushed wakes a waiting close once the writer is done; callers hold mu.
func (w *websocketTransport) checkFlushed() {
	if !w.writing && w.flushed != nil {
		close(w.flushed)
		w.flushed = nil
	}
}

// OnClose closes the connection and tells the engine, once, whichever of
// the reader, the writer or a close gets here first.
func (w *websocketTransport) OnClose() {
	w.closeOnce.Do(func() {
		w.pings.close()
		w.mu.Lock()
		w.closing = true
		w.out, w.sends = nil, 0
		if w.delay != nil {
			w.delay.Stop()
		}
		w.mu.Unlock()
		_ = w.conn.Close()
		w.Transport.OnClose()
	})
}
