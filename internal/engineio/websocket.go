package engineio

import (
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

// websocketTransport wraps the library's WebSocket transport to hold
// server pings back (see pingHold) and to write what it was given before it
// closes (see DoClose).
type websocketTransport struct {
	transports.Websocket

	pings pingHold

	mu      sync.Mutex
	pending int           // batches handed over whose "drain" has not fired
	flushed chan struct{} // closed when pending drops to 0 during a close
}

// newWebsocketTransport counts the library's "drain" events: its send
// emits exactly one per Send, after the batch has been written (or failed).
func newWebsocketTransport(inner transports.Websocket, settle time.Duration) *websocketTransport {
	w := &websocketTransport{Websocket: inner, pings: pingHold{settle: settle}}
	_ = inner.On("drain", func(...any) { w.done(1) })
	return w
}

// Send holds back batches carrying a server ping; see pingHold.
func (w *websocketTransport) Send(packets []*packet.Packet) {
	w.mu.Lock()
	w.pending++
	w.mu.Unlock()
	w.pings.send(w.Protocol(), packets, w.Websocket.Send)
}

// Writable reads false while a ping is held, so the engine socket buffers
// instead of queueing packets here.
func (w *websocketTransport) Writable() bool {
	return !w.pings.holding() && w.Websocket.Writable()
}

// DoClose lets the packets already handed over reach the peer first.
//
// Why (v3.0.5): websocket.DoClose shuts its write queue without waiting and
// closes the connection at once, so whatever is still queued is lost: the
// acks of handlers that finished just before a graceful drain, or an event
// and disconnect packet sent right before the server closes a connection.
// The engine socket only waits for its own buffer, not the transport's.
func (w *websocketTransport) DoClose(fn types.Callable) {
	w.done(w.pings.close()) // dropped pings will never drain
	w.mu.Lock()
	if w.pending <= 0 {
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

// done records n batches as finished.
func (w *websocketTransport) done(n int) {
	if n == 0 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.pending -= n
	if w.pending <= 0 && w.flushed != nil {
		close(w.flushed)
		w.flushed = nil
	}
}
