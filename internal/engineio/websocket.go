package engineio

import (
	"errors"
	"reflect"
	"sync"
	"time"

	"github.com/zishang520/socket.io/parsers/engine/v3/packet"
	"github.com/zishang520/socket.io/servers/engine/v3/transports"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// closeFlushTimeout bounds how long a closing websocket waits for packets
// already handed to it to be written (a peer that stopped reading cannot
// hold a close up for longer).
const closeFlushTimeout = 2 * time.Second

// ErrSlowConsumer is the transport error a websocket peer is cut off with
// when more than Options.SendBuffer bytes are queued for it.
var ErrSlowConsumer = errors.New("slow consumer")

// websocketTransport wraps the library's WebSocket transport to hold
// server pings back (see pingHold), to write what it was given before it
// closes (see DoClose) and to bound what may queue for a peer (see Send).
type websocketTransport struct {
	transports.Websocket

	pings pingHold

	limit  int64 // Options.SendBuffer; 0: unbounded
	onSlow func(sid string, queued int64)

	relay packetRelay

	mu      sync.Mutex
	batches []int64       // sizes of the batches handed over whose "drain" has not fired, oldest first
	queued  int64         // their sum
	slow    bool          // cut off as a slow consumer
	flushed chan struct{} // closed when no batch is left during a close
}

// newWebsocketTransport counts the library's "drain" events: its send
// emits exactly one per Send, after the batch has been written (or failed),
// and writes batches in the order it was given them.
func newWebsocketTransport(inner transports.Websocket, settle time.Duration) *websocketTransport {
	w := &websocketTransport{Websocket: inner, pings: pingHold{settle: settle}}
	_ = inner.On("drain", func(...any) { w.drained() })
	_ = inner.On("packet", w.relay.relay)
	return w
}

// On and RemoveListener route "packet" listeners through packetRelay.
func (w *websocketTransport) On(evt types.EventName, listeners ...types.EventListener) error {
	if evt != "packet" {
		return w.Websocket.On(evt, listeners...)
	}
	w.relay.add(listeners)
	return nil
}

func (w *websocketTransport) RemoveListener(evt types.EventName, listener types.EventListener) bool {
	if evt != "packet" {
		return w.Websocket.RemoveListener(evt, listener)
	}
	return w.relay.remove(listener)
}

// packetRelay is the only "packet" listener on the library's transport; it
// passes packets on to the engine's listeners, and keeps those that arrive
// while there is none.
//
// Why (v3.0.5): the transport starts reading in its constructor, but on an
// upgrade the engine socket only subscribes in MaybeUpgrade, after the
// transport is built. A client that sends its "2probe" as soon as the
// websocket opens (socket.io-client does) can have it read and emitted to
// no one: the probe is never answered and the client silently stays on
// long-polling. The client sends nothing else before the "3probe" answer,
// so handing what was kept to the first listener keeps the order.
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
	ls := append([]types.EventListener(nil), r.listeners...)
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
	r.listeners = append(r.listeners, listeners...)
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
// emitter does.
func (r *packetRelay) remove(listener types.EventListener) bool {
	if listener == nil {
		return false
	}
	target := reflect.ValueOf(listener).Pointer()
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, l := range r.listeners {
		if reflect.ValueOf(l).Pointer() == target {
			r.listeners = append(r.listeners[:i], r.listeners[i+1:]...)
			return true
		}
	}
	return false
}

// Send holds back batches carrying a server ping (see pingHold) and
// counts what is queued for the peer; past the limit the peer is cut off.
func (w *websocketTransport) Send(packets []*packet.Packet) {
	size := batchSize(packets)
	w.mu.Lock()
	if w.slow {
		w.mu.Unlock()
		return // being cut off; nothing more goes out
	}
	w.batches = append(w.batches, size)
	w.queued += size
	tripped := w.limit > 0 && w.queued > w.limit
	if tripped {
		w.slow = true
	}
	queued := w.queued
	w.mu.Unlock()
	if tripped {
		// Not here: Send runs under the engine socket's flush lock, and
		// closing goes back through the engine.
		go w.cutOff(queued)
		return
	}
	w.pings.send(w.Protocol(), packets, w.Websocket.Send)
}

// Writable reads false while a ping is held, so the engine socket buffers
// instead of queueing packets here.
//
// With a send bound it otherwise reads true even while the library is
// writing: then every packet comes through Send, where it is counted,
// instead of piling up unseen in the engine socket's buffer (which is
// what a peer that stops reading makes it do, without limit). The one
// visible difference: volatile packets are dropped only while a ping is
// held or once the peer has been cut off.
func (w *websocketTransport) Writable() bool {
	if w.pings.holding() {
		return false
	}
	if w.limit > 0 {
		w.mu.Lock()
		defer w.mu.Unlock()
		return !w.slow
	}
	return w.Websocket.Writable()
}

// cutOff closes the connection of a peer that fell too far behind: the
// engine sees a transport error, the socket's disconnect reason is
// "transport error", and the close does not wait for the queue (see
// DoClose).
func (w *websocketTransport) cutOff(queued int64) {
	if w.onSlow != nil {
		w.onSlow(w.Sid(), queued)
	}
	w.OnError("slow consumer", ErrSlowConsumer)
	w.Close()
}

// DoClose lets the packets already handed over reach the peer first.
//
// Why (v3.0.5): websocket.DoClose shuts its write queue without waiting and
// closes the connection at once, so whatever is still queued is lost: the
// acks of handlers that finished just before a graceful drain, or an event
// and disconnect packet sent right before the server closes a connection.
// The engine socket only waits for its own buffer, not the transport's.
//
// A slow consumer's connection closes at once: its queue is why it goes.
func (w *websocketTransport) DoClose(fn types.Callable) {
	w.dropHeld(w.pings.close()) // dropped pings will never drain
	w.mu.Lock()
	if len(w.batches) == 0 || w.slow {
		w.mu.Unlock()
		w.Websocket.DoClose(fn)
		return
	}
	if w.flushed == nil {
		w.flushed = make(chan struct{})
	}
	flushed := w.flushed
	w.mu.Unlock()
	// DoClose may run on the library's write goroutine (a failed write
	// closes the transport), which must go on to drain: wait elsewhere.
	go func() {
		t := time.NewTimer(closeFlushTimeout)
		defer t.Stop()
		select {
		case <-flushed:
		case <-t.C:
		}
		w.Websocket.DoClose(fn)
	}()
}

// drained records the oldest batch as written.
func (w *websocketTransport) drained() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.batches) == 0 {
		return
	}
	w.queued -= w.batches[0]
	w.batches = w.batches[1:]
	w.checkFlushed()
}

// dropHeld forgets the n newest batches: held pings (and what queued
// behind them) that will never reach the library.
func (w *websocketTransport) dropHeld(n int) {
	if n == 0 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	n = min(n, len(w.batches))
	for _, size := range w.batches[len(w.batches)-n:] {
		w.queued -= size
	}
	w.batches = w.batches[:len(w.batches)-n]
	w.checkFlushed()
}

// checkFlushed wakes a waiting close once nothing is left; callers hold mu.
func (w *websocketTransport) checkFlushed() {
	if len(w.batches) == 0 && w.flushed != nil {
		close(w.flushed)
		w.flushed = nil
	}
}

// batchSize approximates the bytes a batch puts on the wire: each
// packet's type byte and data.
func batchSize(packets []*packet.Packet) int64 {
	var n int64
	for _, p := range packets {
		if p == nil {
			continue
		}
		n++
		if p.Options != nil && p.Options.WsPreEncodedFrame != nil {
			n += int64(p.Options.WsPreEncodedFrame.Len())
			continue
		}
		if l, ok := p.Data.(interface{ Len() int }); ok {
			n += int64(l.Len())
		}
	}
	return n
}
