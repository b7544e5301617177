package engineio

import (
	"bufio"
	"context"
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
		if r.Header.Get("Upgrade") != "" {
			next.ServeHTTP(&upgradeWriter{w: w}, r)
			return
		}
		if r.Method != http.MethodGet {
			next.ServeHTTP(w, r)
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
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// upgradeWriter lets go of the server's connection state once the
// websocket upgrade has hijacked the connection.
//
// Why (v3.0.5): the engine keeps the request's HttpContext, and with it
// the ResponseWriter, for the whole life of the websocket. net/http's
// writer points to its connection, which holds a 4 KiB read and a 4 KiB
// write buffer that gorilla does not reuse (the engine asks it for its
// own): 8 KiB of every idle websocket's memory, 40% of its Go heap.
type upgradeWriter struct {
	mu sync.Mutex
	w  http.ResponseWriter // nil once hijacked
}

func (u *upgradeWriter) inner() http.ResponseWriter {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.w
}

func (u *upgradeWriter) Header() http.Header {
	if w := u.inner(); w != nil {
		return w.Header()
	}
	return http.Header{}
}

func (u *upgradeWriter) Write(b []byte) (int, error) {
	if w := u.inner(); w != nil {
		return w.Write(b)
	}
	return 0, http.ErrHijacked
}

func (u *upgradeWriter) WriteHeader(code int) {
	if w := u.inner(); w != nil {
		w.WriteHeader(code)
	}
}

func (u *upgradeWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.w == nil {
		return nil, nil, http.ErrHijacked
	}
	c, brw, err := http.NewResponseController(u.w).Hijack()
	if err == nil {
		u.w = nil
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
