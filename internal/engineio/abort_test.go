package engineio

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/zishang520/socket.io/servers/engine/v3/transports"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

var raceDemo = flag.Bool("engineio.race-demo", false,
	"also run the client-abort tests on setups without the race fixes; under -race these are expected to FAIL with the v3.0.5 data race on HttpContext.Cleanup")

// A client aborting its parked GET must end the session (Engine.IO v4 test
// suite: "closes the session upon cancelled polling request"). v3.0.5 only
// notices when a later write to the vanished request fails. The abort is
// made in-process, ordered after the GET was parked, so this test does not
// depend on the data race covered by the other tests in this file.
func TestPollingAbortedGet(t *testing.T) {
	t.Parallel()
	runVariants(t, func(t *testing.T, v variant) error {
		srv := newTestServer(t, quiet(v.config()))
		ss := srv.openPolling(t)

		_ = srv.start(http.MethodGet, ss.query()+"&abort=1", "")
		if _, err := waitFor(ss.parked, waitLimit, "GET parked"); err != nil {
			t.Fatal(err)
		}
		srv.abort("1")

		reason, err := waitFor(ss.closed, hangAfter, "session close")
		if err != nil {
			return err
		}
		if reason != "transport error" {
			return fmt.Errorf("session closed with %q, want \"transport error\"", reason)
		}
		if r, err := srv.poll(ss.query()); err != nil || r.err != nil || r.status != http.StatusBadRequest {
			return fmt.Errorf("GET after the abort: got %v (%v), want 400", r, err)
		}
		return nil
	})
}

// raceVariants are the setups for the real client aborts below: the fixed
// one always, the unprotected ones only with -engineio.race-demo.
func raceVariants(fixed variant, unprotected ...variant) []variant {
	if *raceDemo {
		return append([]variant{fixed}, unprotected...)
	}
	return []variant{fixed}
}

func expectAbortClosesSession(t *testing.T, srv *testServer, ss *session) {
	t.Helper()
	reason, err := waitFor(ss.closed, waitLimit, "session close")
	if err != nil {
		t.Fatal(err)
	}
	if reason != "transport error" {
		t.Fatalf("session closed with %q, want \"transport error\"", reason)
	}
	if r, err := srv.poll(ss.query()); err != nil || r.err != nil || r.status != http.StatusBadRequest {
		t.Fatalf("GET after the abort: got %v (%v), want 400", r, err)
	}
}

// A real client abort of a GET parked some time ago. The transports alone
// must order the library's write of ctx.Cleanup before the cancellation
// (run with -race).
func TestPollingClientAbortAfterParking(t *testing.T) {
	t.Parallel()
	bare := fixedVariant
	bare.name, bare.handler = "fixed-without-Handler", false
	for _, v := range raceVariants(bare, libraryVariant) {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			cfg := quiet(v.config())
			returned := make(chan struct{}, 1)
			cfg.transports = afterRequest(cfg.transports, func(*types.HttpContext) {
				select {
				case returned <- struct{}{}:
				default:
				}
			})
			srv := newTestServer(t, cfg)
			ss := srv.openPolling(t)
			select {
			case <-returned: // the handshake
			default:
			}

			get := srv.start(http.MethodGet, ss.query(), "")
			if _, err := waitFor(returned, waitLimit, "GET handed to the transport"); err != nil {
				t.Fatal(err)
			}
			get.cancel()
			expectAbortClosesSession(t, srv, ss)
		})
	}
}

// A real client abort that reaches the server while the engine is still
// parking the GET. Only Handler can keep that from racing (run with -race).
func TestPollingClientAbortWhileParking(t *testing.T) {
	t.Parallel()
	bare := fixedVariant
	bare.name, bare.handler = "fixed-without-Handler", false
	for _, v := range raceVariants(fixedVariant, bare, libraryVariant) {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			srv := newTestServer(t, quiet(v.config()))
			ss := srv.openPolling(t)

			probe := make(chan *asyncResponse, 1)
			_ = ss.es.Transport().On("ready", func(...any) {
				// On the handler goroutine, inside the library's
				// onPollRequest: abort the client and let the abort reach
				// the server before the library returns.
				a, err := waitFor(probe, waitLimit, "probe request")
				if err != nil {
					t.Error(err)
					return
				}
				a.cancel()
				if _, err := waitFor(srv.request("1").Done(), waitLimit, "server-side abort"); err != nil {
					t.Error(err)
				}
			})
			probe <- srv.start(http.MethodGet, ss.query()+"&probe=1", "")
			expectAbortClosesSession(t, srv, ss)
		})
	}
}

// afterRequest wraps every builder of set so that fn runs once the
// transport's OnRequest has returned.
func afterRequest(set *types.Set[transports.TransportCtor], fn func(*types.HttpContext)) *types.Set[transports.TransportCtor] {
	out := types.NewSet[transports.TransportCtor]()
	for _, b := range set.Keys() {
		out.Add(&afterRequestBuilder{TransportCtor: b, fn: fn})
	}
	return out
}

type afterRequestBuilder struct {
	transports.TransportCtor

	fn func(*types.HttpContext)
}

func (b *afterRequestBuilder) New(ctx *types.HttpContext) transports.Transport {
	return &afterRequestTransport{Transport: b.TransportCtor.New(ctx), fn: b.fn}
}

type afterRequestTransport struct {
	transports.Transport

	fn func(*types.HttpContext)
}

func (t *afterRequestTransport) OnRequest(ctx *types.HttpContext) {
	t.Transport.OnRequest(ctx)
	t.fn(ctx)
}

// The library answers a parked GET from its write queue, so a client abort
// can end the handler while that answer is being written. What the queue
// writes after the handler returned must reach nothing of net/http's: no
// header map net/http reads to finish the request (run with -race), no
// write to the finished response.
func TestHandlerFencesWritesAfterReturn(t *testing.T) {
	t.Parallel()
	parked := make(chan *types.HttpContext, 1)
	returned := make(chan struct{})
	engine := Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := types.NewHttpContext(w, r)
		releaseRequest(ctx)
		parked <- ctx
		<-ctx.Done() // as the engine does: the abort closes the context
	}))
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(returned)
		engine.ServeHTTP(w, r)
	}))
	defer hs.Close()

	clientCtx, abort := context.WithCancel(context.Background())
	defer abort()
	req, err := http.NewRequestWithContext(clientCtx, http.MethodGet, hs.URL+"/?EIO=4&transport=polling&sid=x", nil)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	ctx, err := waitFor(parked, waitLimit, "GET parked")
	if err != nil {
		t.Fatal(err)
	}
	abort()
	if _, err := waitFor(returned, waitLimit, "handler returned"); err != nil {
		t.Fatal(err)
	}
	// What polling.DoWrite does once its answer is under way.
	ctx.ResponseHeaders().Set("Content-Type", "text/plain; charset=UTF-8")
	if _, err := ctx.Response().Write([]byte("late")); !errors.Is(err, errDetached) {
		t.Fatalf("write after the handler returned: %v, want errDetached", err)
	}
}

// The engine's headers start as what the handlers in front of it set and
// become the response's at the first write.
func TestEngineWriterHeaders(t *testing.T) {
	rec := httptest.NewRecorder()
	rec.Header().Set("Vary", "Origin")
	ew := newEngineWriter(rec)
	ew.Header().Add("Vary", "Accept-Encoding")
	ew.Header().Set("Content-Type", "text/plain; charset=UTF-8")
	if got := rec.Header().Get("Content-Type"); got != "" {
		t.Fatalf("engine header reached the response before a write: %q", got)
	}
	if _, err := ew.Write([]byte("ok")); err != nil {
		t.Fatal(err)
	}
	if got := rec.Header().Values("Vary"); len(got) != 2 || got[0] != "Origin" || got[1] != "Accept-Encoding" {
		t.Errorf("Vary %q, want [Origin Accept-Encoding]", got)
	}
	if got := rec.Header().Get("Content-Type"); got != "text/plain; charset=UTF-8" {
		t.Errorf("Content-Type %q", got)
	}
	ew.detach()
	if _, err := ew.Write([]byte("late")); !errors.Is(err, errDetached) {
		t.Errorf("write after detach: %v, want errDetached", err)
	}
}
