package engineio

import (
	"bufio"
	"context"
	"errors"
	"maps"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/zishang520/socket.io/servers/engine/v3/transports"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// abortGrace bounds how long Handler holds back an aborted request for a
// transport that never signals it is done with it (a transport not from
// Transports(), or an engine middleware that never calls next).
const abortGrace = time.Second

// Handler wraps the engine's http.Handler (an engine.Server, or what
// (*socket.Server).ServeHandler returns) so that a client aborting a
// long-polling GET cannot race with the engine still parking it:
//
//	mux.Handle("/socket.io/", engineio.Handler(io.ServeHandler(opts)))
//
// Use it together with Transports(); other requests than plain GETs pass
// through untouched.
//
// Why (v3.0.5): the library parks a GET by assigning ctx.Cleanup on the
// handler goroutine, while HttpContext reads that field from a watcher
// goroutine as soon as the request context is cancelled. The polling
// transport orders the write before any cancellation that comes after the
// GET is parked (see watchPoll), but an abort that lands while the GET is
// still on its way in is a real data race, which the race detector reports
// now and then (typically a test client that disconnects right after
// connecting). Handler gives the engine a request context whose
// cancellation waits until the transport is done setting the request up.
func Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if unsupportedProtocol(r) {
			// v3.0.5 answers code 4 (which means "Forbidden"); clients and
			// the protocol's test suite expect 5.
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"code":5,"message":"Unsupported protocol version"}`))
			return
		}
		ew := newEngineWriter(w)
		defer ew.detach()
		if r.Header.Get("Upgrade") != "" || r.Method != http.MethodGet {
			next.ServeHTTP(ew, r)
			return
		}
		g := &requestGate{done: make(chan struct{})}
		ctx, cancel := context.WithCancelCause(context.WithValue(context.WithoutCancel(r.Context()), requestGateKey{}, g))
		stop := context.AfterFunc(r.Context(), func() {
			t := time.NewTimer(abortGrace)
			defer t.Stop()
			select {
			case <-g.done:
			case <-t.C:
			}
			cancel(context.Cause(r.Context()))
		})
		defer func() {
			g.release()
			stop()
			cancel(context.Canceled)
		}()
		next.ServeHTTP(ew, r.WithContext(ctx))
	})
}

// engineWriter is the ResponseWriter the engine gets. It lets go of the
// real one when the handler returns or the connection is hijacked, and
// keeps the engine's headers to itself until they are written, so the
// engine can never touch net/http's state after that.
//
// Why (v3.0.5), two defects:
//
//   - A long-polling GET is answered from the transport's write queue, on
//     its own goroutine. When the client aborts the GET while that answer
//     is being written, the handler returns (HttpContext closes on the
//     cancellation) and net/http reads the response headers to finish the
//     request while the queue's goroutine is still setting them: a data
//     race on the header map, and a write to a finished response. Holding
//     mu across every write, and taking it in detach before the handler
//     returns, orders the two; what comes later is dropped (the client is
//     gone and the transport closes the session on the abort).
//
//   - The engine keeps the request's HttpContext, and with it the
//     ResponseWriter, for the whole life of an upgraded websocket.
//     net/http's writer points to its connection, which holds a 4 KiB read
//     and a 4 KiB write buffer that gorilla does not reuse (the engine asks
//     it for its own): 8 KiB of every idle websocket's memory, 40% of its
//     Go heap.
type engineWriter struct {
	mu     sync.Mutex
	w      http.ResponseWriter // nil once detached or hijacked
	gone   error               // why w is nil: errDetached or http.ErrHijacked
	header http.Header         // the engine's; copied to w's at the first write
	sent   bool                // header copied
}

// errDetached answers a write after the handler returned.
var errDetached = errors.New("engineio: response already finished")

func newEngineWriter(w http.ResponseWriter) *engineWriter { return &engineWriter{w: w} }

// inner is the real writer, nil once detached.
func (e *engineWriter) inner() http.ResponseWriter {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.w
}

// detach waits for a write in progress and drops the real writer.
func (e *engineWriter) detach() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.w != nil {
		e.w, e.gone = nil, errDetached
	}
}

// Header is the engine's own map, a copy of what the handlers in front of
// the engine set (CORS, say): the library writes it from goroutines
// net/http knows nothing about.
func (e *engineWriter) Header() http.Header {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.header == nil {
		if e.w != nil {
			e.header = e.w.Header().Clone()
		} else {
			e.header = http.Header{}
		}
	}
	return e.header
}

// sendHeader makes the engine's headers the response's, once; e.mu must
// be held and e.w set.
func (e *engineWriter) sendHeader() {
	if e.sent || e.header == nil {
		return
	}
	e.sent = true
	dst := e.w.Header()
	clear(dst)
	maps.Copy(dst, e.header)
}

func (e *engineWriter) Write(b []byte) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.w == nil {
		return 0, e.gone
	}
	e.sendHeader()
	return e.w.Write(b)
}

func (e *engineWriter) WriteHeader(code int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.w != nil {
		e.sendHeader()
		e.w.WriteHeader(code)
	}
}

func (e *engineWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.w == nil {
		return nil, nil, http.ErrHijacked
	}
	c, brw, err := http.NewResponseController(e.w).Hijack()
	if err == nil {
		e.w, e.gone = nil, http.ErrHijacked
	}
	return c, brw, err
}

// unsupportedProtocol reports a handshake (a GET with a known transport and
// no sid, which is where the reference server checks the version) asking
// for another Engine.IO protocol than 4.
func unsupportedProtocol(r *http.Request) bool {
	q := r.URL.Query()
	t := q.Get("transport")
	return r.Method == http.MethodGet && q.Get("sid") == "" && q.Get("EIO") != "4" &&
		(t == transports.POLLING || t == transports.WEBSOCKET)
}

// requestGate holds back the cancellation of one request until released.
type requestGate struct {
	once sync.Once
	done chan struct{}
}

func (g *requestGate) release() { g.once.Do(func() { close(g.done) }) }

type requestGateKey struct{}

// releaseRequest tells Handler the transport is done setting the request
// up, so an abort may now reach the engine; a no-op without Handler.
func releaseRequest(ctx *types.HttpContext) {
	if g, _ := ctx.Context().Value(requestGateKey{}).(*requestGate); g != nil {
		g.release()
	}
}
