package engineio

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/zishang520/socket.io/parsers/engine/v3/packet"
	"github.com/zishang520/socket.io/servers/engine/v3/transports"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// pollingTransport wraps the library's HTTP long-polling (or JSONP)
// transport; see the overrides for the v3.0.5 defects each one covers.
type pollingTransport struct {
	transports.Polling

	jsonp bool
	pings pingHold
	// writing is held while the library answers a GET; see DoWrite.
	writing sync.Mutex

	mu       sync.Mutex
	deferred *deferredClose
}

// deferredClose is a close requested while no GET was parked: it completes
// on the next GET, on transport close, or after the library's close timeout.
type deferredClose struct {
	fn    types.Callable
	timer *time.Timer
}

// OnRequest routes POSTs through onDataRequest and lets a GET complete a
// deferred close once the library has parked it.
func (p *pollingTransport) OnRequest(ctx *types.HttpContext) {
	switch ctx.Method() {
	case http.MethodPost:
		p.onDataRequest(ctx)
	case http.MethodGet:
		p.awaitWrite()
		p.Polling.OnRequest(ctx)
		p.watchPoll(ctx)
		releaseRequest(ctx)
		p.completeDeferredClose()
	default:
		p.Polling.OnRequest(ctx)
	}
}

// DoWrite marks the library's answer to a GET as in flight until the
// library is done with that request; a new GET waits for it in awaitWrite.
//
// Why (v3.0.5): the library clears its parked request twice per answer,
// once before writing and once from HttpContext.closeWithError, which
// releases the handler (so the response goes out) before it runs Cleanup.
// A client fast enough to send its next GET while the writing goroutine is
// delayed has that GET parked, then forgotten by the late Cleanup: the next
// write fails with "polling write error" and the session closes with
// "transport error". Seen here under load with a ping answered and polled
// again within a few milliseconds.
func (p *pollingTransport) DoWrite(ctx *types.HttpContext, data types.BufferInterface, options *packet.Options, callback func(error)) {
	p.writing.Lock()
	var once sync.Once
	done := func() { once.Do(p.writing.Unlock) }
	defer done()
	// The library runs callback once the request is finished with; drain
	// listeners must not run with the lock held.
	p.Polling.DoWrite(ctx, data, options, func(err error) {
		done()
		callback(err)
	})
}

// awaitWrite returns once no answer to an earlier GET is being written.
func (p *pollingTransport) awaitWrite() {
	p.writing.Lock()
	defer p.writing.Unlock()
}

// watchPoll closes the session when the client aborts a parked GET, and
// orders the library's write of ctx.Cleanup before that abort.
//
// Why (v3.0.5), two defects around an aborted parked GET:
//
//   - The library's "close" listener on the request, which would report the
//     error, is removed by ctx.Cleanup, and HttpContext runs Cleanup before
//     it emits "close". An abort therefore goes unnoticed: the session stays
//     open until the next write to the vanished request fails (up to a
//     pingInterval later), where the reference server closes it at once
//     (Engine.IO v4 test suite: "closes the session upon cancelled polling
//     request"). HttpContext emits "close" with the cancellation error on an
//     abort and with nil after a normal answer, which tells them apart.
//
//   - onPollRequest assigns ctx.Cleanup on the handler goroutine and
//     HttpContext's watcher goroutine reads it when the request context is
//     cancelled. Nothing orders the two, so the race detector flags every
//     aborted parked GET. Registering a context.AfterFunc takes the mutex
//     that cancelling the request context takes (Go 1.26, for the contexts
//     net/http hands out), which orders the write, earlier on this
//     goroutine, before any later cancellation; the client-abort tests fail
//     under -race if that stops being true. An abort landing before that is
//     a real race no transport can prevent: Handler closes that window by
//     holding the cancellation back until releaseRequest. Without Handler,
//     checking Err below at least turns the outcome into a closed session.
func (p *pollingTransport) watchPoll(ctx *types.HttpContext) {
	stop := context.AfterFunc(ctx.Context(), func() {})
	stop()

	aborted := func(err error) {
		// What the library's own listener would have done.
		p.SetWritable(false)
		p.OnError("poll connection closed prematurely", err)
	}
	_ = ctx.Once("close", func(args ...any) {
		if len(args) == 0 {
			return
		}
		if err, _ := args[0].(error); err != nil {
			aborted(err)
		}
	})
	// The "close" event may have fired before the listener was added.
	if err := ctx.Context().Err(); err != nil {
		aborted(err)
	}
}

// onDataRequest answers 400 and closes the session when a POST body is not
// a valid payload.
//
// Why (v3.0.5): polling.OnData discards the error from DecodePayload, so a
// body such as "abc" decodes to nothing, the client gets 200 "ok" and the
// session lives on. The reference server treats it as a parse error and
// drops the session (Engine.IO v4 test suite: "closes the session upon
// invalid packet format"). The check runs before the library sees the
// request because OnData, the only hook on the library's path, has no
// access to the response.
//
// Unlike the reference server, packets before the malformed one are not
// delivered: the session is being closed for a broken client anyway.
func (p *pollingTransport) onDataRequest(ctx *types.HttpContext) {
	req := ctx.Request()
	// JSONP wraps the payload in a form and protocol 3 has its own payload
	// format; oversized and binary bodies are refused by the library itself
	// (413 and 400).
	if p.jsonp || p.Protocol() != 4 || req.Body == nil ||
		ctx.Headers().Peek("Content-Type") == "application/octet-stream" ||
		req.ContentLength > p.MaxHttpBufferSize() {
		p.Polling.OnRequest(ctx)
		return
	}

	// Same limit as the library's own read, so it decodes exactly what was
	// validated here. Read errors are ignored as the library ignores them.
	body, _ := io.ReadAll(io.LimitReader(req.Body, p.MaxHttpBufferSize()))
	_ = req.Body.Close()

	_, err := p.Parser().DecodePayload(types.NewStringBuffer(body))
	if err != nil {
		p.rejectPayload(ctx, err)
		return
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	p.Polling.OnRequest(ctx)
}

func (p *pollingTransport) rejectPayload(ctx *types.HttpContext, err error) {
	slog.Debug("engineio: closing polling session on undecodable payload", "sid", p.Sid(), "err", err)
	_ = ctx.SetStatusCode(http.StatusBadRequest)
	_, _ = ctx.Write(nil)
	// The library's own path for an undecodable websocket frame: the
	// engine socket closes with reason "parse error", as in the reference.
	p.OnPacket(&packet.Packet{Type: packet.ERROR, Data: types.NewStringBufferString("parser error")})
}

// Send holds back batches carrying a server ping; see pingHold.
func (p *pollingTransport) Send(packets []*packet.Packet) {
	p.pings.send(p.Protocol(), packets, p.Polling.Send)
}

// Writable reads false while a ping is held, so the engine socket buffers
// instead of queueing packets here. The workarounds below ask the library
// directly (Polling.Writable): they need to know whether a GET is parked.
func (p *pollingTransport) Writable() bool {
	return !p.pings.holding() && p.Polling.Writable()
}

// DoClose makes sure the client sees the close packet.
//
// Why (v3.0.5): polling.DoClose shuts its write queue before it queues the
// close packet, so the packet is silently dropped. A parked GET is then
// never answered (the client hangs until its own timeout), and when no GET
// is parked the next one hangs the same way while the library waits 30 s
// for a chance to send the packet it can no longer send.
//
// The close packet is therefore queued before the library's DoClose runs,
// and the library is steered into its "close right away" branch by marking
// the transport discarded, which has no other effect on a polling transport
// that is going away. With no GET parked, the close waits for the next GET
// (as in the reference server) or for the library's close timeout.
func (p *pollingTransport) DoClose(fn types.Callable) {
	// A held ping would only delay the close packet.
	p.pings.close()
	switch {
	case p.Polling.Writable():
		p.closeNow(fn)
	case p.Discarded():
		// Upgraded away: nobody polls any more, close right away (library
		// and reference behaviour).
		p.Polling.DoClose(fn)
	default:
		p.deferClose(fn)
	}
}

// closeNow must only run with a GET parked and nothing in flight
// (Polling.Writable), so the queued close packet answers that GET.
func (p *pollingTransport) closeNow(fn types.Callable) {
	p.Polling.Send([]*packet.Packet{{Type: packet.CLOSE}})
	p.Polling.Discard()
	p.Polling.DoClose(fn)
}

func (p *pollingTransport) deferClose(fn types.Callable) {
	d := &deferredClose{fn: fn}
	p.mu.Lock()
	if p.deferred != nil {
		// The base transport's Close lets DoClose run once; keep the first.
		p.mu.Unlock()
		return
	}
	p.deferred = d
	d.timer = time.AfterFunc(transports.DefaultPollingCloseTimeout, func() {
		if p.takeDeferred(d) {
			// What the library does when its own close timeout expires.
			p.Polling.Discard()
			p.Polling.DoClose(d.fn)
		}
	})
	p.mu.Unlock()

	// A GET may have parked between the Writable check and the store above;
	// it checked for a deferred close before there was one, so look again.
	p.completeDeferredClose()
}

// completeDeferredClose sends the close packet on a parked GET if a close
// is waiting for one.
func (p *pollingTransport) completeDeferredClose() {
	p.mu.Lock()
	d := p.deferred
	p.mu.Unlock()
	if d != nil && p.Polling.Writable() && p.takeDeferred(d) {
		p.closeNow(d.fn)
	}
}

// expireDeferredClose runs a deferred close's callback as soon as the
// transport has closed by other means (client close packet, close timeout
// of an aborted request), instead of when the close timeout expires. The
// library's DoClose is not involved: the transport is closed already, and
// it would answer a POST still in flight with 429.
func (p *pollingTransport) expireDeferredClose() {
	p.mu.Lock()
	d := p.deferred
	p.mu.Unlock()
	if d != nil && p.takeDeferred(d) && d.fn != nil {
		d.fn()
	}
}

// takeDeferred claims d for the caller, if nobody has yet.
func (p *pollingTransport) takeDeferred(d *deferredClose) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.deferred != d {
		return false
	}
	p.deferred = nil
	d.timer.Stop()
	return true
}
