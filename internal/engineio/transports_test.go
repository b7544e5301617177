package engineio

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/zishang520/socket.io/servers/engine/v3/transports"
	socket "github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// Upgrading from polling to websocket goes through both wrappers.
func TestUpgrade(t *testing.T) {
	t.Parallel()
	cfg := fixedVariant.config()
	listening := make(chan struct{}, 1)
	cfg.transports = onPacketListener(cfg.transports, listening)
	srv := newTestServer(t, cfg)
	ss := srv.openPolling(t)
	got := make(chan string, 4)
	_ = ss.es.On("message", func(a ...any) { got <- fmt.Sprint(a[0]) })

	c := srv.dialWS(t, "sid="+ss.sid)
	// v3.0.5 starts reading the new websocket before the engine listens
	// for its packets; a probe sent earlier is lost (a library race this
	// package does not work around).
	if _, err := waitFor(listening, waitLimit, "engine listening on the websocket"); err != nil {
		t.Fatal(err)
	}
	if err := c.send("2probe"); err != nil {
		t.Fatal(err)
	}
	if f, err := c.next(waitLimit); err != nil || f != "3probe" {
		t.Fatalf("probe answer: %q, %v", f, err)
	}
	// The engine ends the pending poll with a noop so the client can
	// switch; answering pings meanwhile keeps the session up.
	for {
		r, err := srv.poll(ss.query())
		if err != nil || r.err != nil || r.status != http.StatusOK {
			t.Fatalf("poll during upgrade: %v (%v)", r, err)
		}
		if r.body == "6" {
			break
		}
		if r.body != "2" {
			t.Fatalf("poll during upgrade: unexpected payload %q", r.body)
		}
		if r := srv.doWithin(waitLimit, http.MethodPost, ss.query(), "3"); r.err != nil || r.status != http.StatusOK {
			t.Fatalf("pong during upgrade: %v", r)
		}
	}
	if err := c.send("5"); err != nil {
		t.Fatal(err)
	}
	if err := c.send("4hello"); err != nil {
		t.Fatal(err)
	}
	if m, err := waitFor(got, waitLimit, "message"); err != nil || m != "hello" {
		t.Fatalf("message after upgrade: %q, %v", m, err)
	}
	if lt, ok := ss.es.Transport().(*listenTransport); !ok {
		t.Fatalf("transport after upgrade is %T, want the websocket", ss.es.Transport())
	} else if _, ok := lt.Transport.(*websocketTransport); !ok {
		t.Fatalf("transport after upgrade wraps %T, want *websocketTransport", lt.Transport)
	}
	// Pings now travel over the websocket, through the held-ping path.
	if err := answerPings(c, ss, pingsToAnswer, pingWait); err != nil {
		t.Fatal(err)
	}
}

// The same set plugs into the Socket.IO server options, which embed the
// engine's, and Handler into its http.Handler.
func TestSocketIOServerOptions(t *testing.T) {
	t.Parallel()
	opts := socket.DefaultServerOptions()
	opts.SetTransports(Transports())
	io := socket.NewServer(nil, opts)
	t.Cleanup(func() { io.Close(nil) })

	conns := make(chan transports.Transport, 1)
	_ = io.On("connection", func(a ...any) {
		conns <- a[0].(*socket.Socket).Conn().Transport()
	})

	mux := http.NewServeMux()
	mux.Handle("/socket.io/", Handler(io.ServeHandler(nil)))
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	srv := &testServer{t: t, url: hs.URL + "/socket.io/", http: hs.Client()}

	r := srv.doWithin(waitLimit, http.MethodGet, "transport=polling", "")
	if r.err != nil || r.status != http.StatusOK {
		t.Fatalf("handshake: %v", r)
	}
	h, err := parseOpen(r.body)
	if err != nil {
		t.Fatal(err)
	}
	if r := srv.doWithin(waitLimit, http.MethodPost, "transport=polling&sid="+h.Sid, "40"); r.err != nil || r.status != http.StatusOK {
		t.Fatalf("socket.io connect: %v", r)
	}
	tr, err := waitFor(conns, waitLimit, "socket.io connection")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := tr.(*pollingTransport); !ok {
		t.Fatalf("socket.io connection uses %T, want *pollingTransport", tr)
	}
	// The CONNECT answer is queued for the next poll.
	if r := srv.doWithin(waitLimit, http.MethodGet, "transport=polling&sid="+h.Sid, ""); r.err != nil || r.status != http.StatusOK || len(r.body) < 2 || r.body[:2] != "40" {
		t.Fatalf("socket.io connect answer: %v", r)
	}
}

func TestTransportsSet(t *testing.T) {
	t.Parallel()
	names := map[string]bool{}
	for _, b := range Transports().Keys() {
		names[b.Name()] = true
	}
	if len(names) != 2 || !names[transports.POLLING] || !names[transports.WEBSOCKET] {
		t.Fatalf("transport names %v, want polling and websocket", names)
	}
	var _ *types.Set[transports.TransportCtor] = Transports()
}

// onPacketListener signals on ch when the engine starts listening for the
// packets of a websocket transport.
func onPacketListener(set *types.Set[transports.TransportCtor], ch chan struct{}) *types.Set[transports.TransportCtor] {
	out := types.NewSet[transports.TransportCtor]()
	for _, b := range set.Keys() {
		out.Add(&listenBuilder{TransportCtor: b, ch: ch})
	}
	return out
}

type listenBuilder struct {
	transports.TransportCtor

	ch chan struct{}
}

func (b *listenBuilder) New(ctx *types.HttpContext) transports.Transport {
	tr := b.TransportCtor.New(ctx)
	if tr.Name() != transports.WEBSOCKET {
		return tr
	}
	return &listenTransport{Transport: tr, ch: b.ch}
}

type listenTransport struct {
	transports.Transport

	ch chan struct{}
}

func (t *listenTransport) On(evt types.EventName, listeners ...types.EventListener) error {
	err := t.Transport.On(evt, listeners...)
	if evt == "packet" {
		select {
		case t.ch <- struct{}{}:
		default:
		}
	}
	return err
}

// JSONP polling still goes through the library's JSONP transport, behind
// the same wrapper.
func TestJSONP(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, quiet(fixedVariant.config()))
	r := srv.doWithin(waitLimit, http.MethodGet, "transport=polling&j=3", "")
	if r.err != nil || r.status != http.StatusOK || !strings.HasPrefix(r.body, `___eio[3]("0{`) {
		t.Fatalf("JSONP handshake: %v", r)
	}
	es, err := waitFor(srv.conns, waitLimit, "engine socket")
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := es.Transport().(*pollingTransport); !ok || !p.jsonp {
		t.Fatalf("transport %T, want the JSONP-backed *pollingTransport", es.Transport())
	}
}
