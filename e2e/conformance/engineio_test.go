package main

// Engine.IO protocol v4 against the fixture, after the official suite
// (socketio/socket.io docs/engine.io-protocol/v4-test-suite, whose cases the
// Socket.IO suite repeats on /socket.io/) and the v4 spec
// (docs/engine.io-protocol/v4-current.md). Cases that are not about
// application messages run on both mounts.

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func forEachMount(t *testing.T, run func(t *testing.T, m mount)) {
	for _, m := range mounts {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			run(t, m)
		})
	}
}

func TestHandshakePolling(t *testing.T) {
	t.Parallel()
	forEachMount(t, func(t *testing.T, m mount) {
		f := startFixture(t)
		// The suites also run from a browser page on another origin.
		res, err := f.request(t.Context(), http.MethodGet, f.url(m, "EIO=4&transport=polling"), "",
			http.Header{"Origin": {"http://suite.example"}})
		if err != nil {
			t.Fatal(err)
		}
		if res.status != http.StatusOK {
			t.Fatalf("got %d %q, want 200", res.status, res.body)
		}
		parseOpen(t, res.body, []string{"websocket"})
		if got := res.header.Get("Access-Control-Allow-Origin"); got != "*" {
			t.Errorf("Access-Control-Allow-Origin: got %q, want *", got)
		}
	})
}

func TestHandshakeWebSocket(t *testing.T) {
	t.Parallel()
	forEachMount(t, func(t *testing.T, m mount) {
		f := startFixture(t)
		// openWS checks the open packet: no upgrades from websocket.
		f.openWS(t, m)
	})
}

// engineError is the body of an Engine.IO HTTP error.
type engineError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// Error codes of the reference server (engine.io Server.errors).
var (
	errUnknownTransport    = engineError{0, "Transport unknown"}
	errUnknownSid          = engineError{1, "Session ID unknown"}
	errBadHandshakeMethod  = engineError{2, "Bad handshake method"}
	errBadRequest          = engineError{3, "Bad request"}
	errUnsupportedProtocol = engineError{5, "Unsupported protocol version"}
)

func expectEngineError(t *testing.T, res response, want engineError) {
	t.Helper()
	if res.status != http.StatusBadRequest {
		t.Fatalf("got %d %q, want 400", res.status, res.body)
	}
	var got engineError
	if err := json.Unmarshal([]byte(res.body), &got); err != nil {
		t.Fatalf("error body %q: %v", res.body, err)
	}
	if got != want {
		t.Errorf("error body: got %+v, want %+v", got, want)
	}
}

func TestHandshakeErrorsPolling(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		method string
		query  string
		want   engineError
	}{
		{"missing EIO", http.MethodGet, "transport=polling", errUnsupportedProtocol},
		{"EIO abc", http.MethodGet, "EIO=abc&transport=polling", errUnsupportedProtocol},
		{"EIO 3 not allowed", http.MethodGet, "EIO=3&transport=polling", errUnsupportedProtocol},
		{"missing transport", http.MethodGet, "EIO=4", errUnknownTransport},
		{"unknown transport", http.MethodGet, "EIO=4&transport=abc", errUnknownTransport},
		{"POST handshake", http.MethodPost, "EIO=4&transport=polling", errBadHandshakeMethod},
		{"PUT handshake", http.MethodPut, "EIO=4&transport=polling", errBadHandshakeMethod},
		{"websocket without upgrade", http.MethodGet, "EIO=4&transport=websocket", errBadRequest},
		// Well-formed, as a sid of an ended session would be.
		{"unknown sid", http.MethodGet, pollingQuery("AAAAAAAAAAAAAAAAAAAAAAAA"), errUnknownSid},
	}
	forEachMount(t, func(t *testing.T, m mount) {
		f := startFixture(t)
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				res, err := f.request(t.Context(), tc.method, f.url(m, tc.query), "", nil)
				if err != nil {
					t.Fatal(err)
				}
				expectEngineError(t, res, tc.want)
			})
		}
	})
}

// A refused websocket handshake may end at the HTTP upgrade or right after
// it; either way no session opens.
func TestHandshakeErrorsWebSocket(t *testing.T) {
	t.Parallel()
	queries := map[string]string{
		"missing EIO":       "transport=websocket",
		"EIO abc":           "EIO=abc&transport=websocket",
		"missing transport": "EIO=4",
		"unknown transport": "EIO=4&transport=abc",
	}
	forEachMount(t, func(t *testing.T, m mount) {
		f := startFixture(t)
		for name, query := range queries {
			t.Run(name, func(t *testing.T) {
				c, err := f.tryDialWS(t, m, query)
				if err != nil {
					t.Logf("refused at the upgrade: %v", err)
					return
				}
				c.expectClosed(false)
			})
		}
	})
}

func TestMessagePolling(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"one text packet":     "4hello",
		"several packets":     "4test1\x1e4test2\x1e4test3",
		"text and binary":     "4hello\x1ebAQIDBA==",
		"binary only":         "bAQIDBA==",
		"utf-8 text":          "4€ and 😀",
		"empty message":       "4",
		"binary then text":    "bAA==\x1e4x",
		"many binary packets": "bAQ==\x1ebAg==\x1ebAw==",
	}
	for name, payload := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := startFixture(t)
			c := f.openPollingConn(t, engineMount)
			expectResponse(t, "POST", f.post(t, c.url, payload), http.StatusOK, "ok")
			// The echoes come back in one payload, as they were sent.
			if got := encodePayload(c.pollSkippingPings()); got != payload {
				t.Errorf("GET: got %q, want %q", got, payload)
			}
		})
	}
}

func TestMessageWebSocket(t *testing.T) {
	t.Parallel()
	t.Run("text", func(t *testing.T) {
		t.Parallel()
		c := startFixture(t).openWS(t, engineMount)
		c.send("4hello")
		c.expectText("4hello")
	})
	t.Run("binary", func(t *testing.T) {
		t.Parallel()
		c := startFixture(t).openWS(t, engineMount)
		c.sendFrames(binary(1, 2, 3, 4))
		c.expect(binary(1, 2, 3, 4))
	})
}

// An undecodable payload is a protocol error: the reference server answers
// the POST with 400 and ends the session (v3.0.5 answers 200 "ok" and keeps
// it; internal/engineio fixes that).
func TestInvalidPayloadPolling(t *testing.T) {
	t.Parallel()
	forEachMount(t, func(t *testing.T, m mount) {
		f := startFixture(t)
		sid := f.openPolling(t, m)
		u := f.url(m, pollingQuery(sid))
		closed := f.onSessionEvent(t, m, sid, "close")
		res := f.post(t, u, "abc")
		if res.status != http.StatusBadRequest {
			t.Fatalf("POST abc: got %d %q, want 400", res.status, res.body)
		}
		expectSessionClose(t, closed, "parse error")
		expectEngineError(t, f.get(t, u), errUnknownSid)
	})
}

func TestInvalidPacketWebSocket(t *testing.T) {
	t.Parallel()
	forEachMount(t, func(t *testing.T, m mount) {
		c := startFixture(t).openWS(t, m)
		c.send("abc")
		c.expectClosed(true)
	})
}

// Two GETs at once on one session: the second gets 400 and the session
// ends, so the parked one is answered with a close packet (v3.0.5 never
// answers it; internal/engineio fixes that).
func TestDuplicateGetPolling(t *testing.T) {
	t.Parallel()
	forEachMount(t, func(t *testing.T, m mount) {
		f := startFixture(t)
		sid := f.openPolling(t, m)
		u := f.url(m, pollingQuery(sid))
		first := f.parkGet(t, m, sid)
		second := f.get(t, u+"&t=burst")
		if second.status != http.StatusBadRequest {
			t.Errorf("second GET: got %d %q, want 400", second.status, second.body)
		}
		expectResponse(t, "first GET", await(t, first), http.StatusOK, "1")
		expectEngineError(t, f.get(t, u), errUnknownSid)
	})
}

// A client that gives up on its GET ends the session.
func TestCancelledGetPolling(t *testing.T) {
	t.Parallel()
	forEachMount(t, func(t *testing.T, m mount) {
		f := startFixture(t)
		sid := f.openPolling(t, m)
		closed := f.onSessionEvent(t, m, sid, "close")
		ready := f.onTransportReady(t, m, sid)

		u := f.url(m, pollingQuery(sid))
		// Cancelling closes the connection, which is how a browser aborts.
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		aborted := f.goRequest(ctx, http.MethodGet, u, "")
		waitSignal(t, "the GET to be parked", ready)
		cancel()

		waitSignal(t, "the session to close", closed)
		if r := waitSignal(t, "the aborted GET to end", aborted); r.err == nil {
			t.Errorf("aborted GET: got %d %q", r.status, r.body)
		}
		expectEngineError(t, f.get(t, u), errUnknownSid)
	})
}

// joinIfSocketIO connects the session to "/" on the Socket.IO mount, where
// a session in no namespace is closed after connectTimeout (1 s), too soon
// for three heartbeat rounds on a loaded machine.
func joinIfSocketIO(t *testing.T, m mount, c sioConn) {
	t.Helper()
	if m.path == socketioMount.path {
		connectMain(t, c)
	}
}

func TestHeartbeatPolling(t *testing.T) {
	t.Parallel()
	forEachMount(t, func(t *testing.T, m mount) {
		c := startFixture(t).openPollingConn(t, m)
		joinIfSocketIO(t, m, c)
		// Three rounds outlast pingInterval + pingTimeout, so the pongs
		// counted.
		for range 3 {
			if got, status := c.poll(); status != http.StatusOK || !slices.Equal(got, []frame{ping}) {
				t.Fatalf("GET: got %d %v, want a ping", status, got)
			}
			c.sendFrames(pong)
		}
	})
}

// Without a pong the session ends pingTimeout after the ping; a GET parked
// at that moment is answered with a close packet (v3.0.5 never answers it;
// internal/engineio fixes that) and later ones with 400.
func TestPingTimeoutPolling(t *testing.T) {
	t.Parallel()
	forEachMount(t, func(t *testing.T, m mount) {
		f := startFixture(t)
		sid := f.openPolling(t, m)
		u := f.url(m, pollingQuery(sid))
		expectResponse(t, "GET", f.get(t, u), http.StatusOK, "2")
		closed := f.onSessionEvent(t, m, sid, "close")
		parked := f.parkGet(t, m, sid)
		expectSessionClose(t, closed, "ping timeout")
		expectResponse(t, "parked GET", await(t, parked), http.StatusOK, "1")
		expectEngineError(t, f.get(t, u), errUnknownSid)
	})
}

func TestHeartbeatWebSocket(t *testing.T) {
	t.Parallel()
	forEachMount(t, func(t *testing.T, m mount) {
		c := startFixture(t).openWS(t, m)
		joinIfSocketIO(t, m, c)
		// As for polling.
		for range 3 {
			c.expectText("2")
			c.send("3")
		}
	})
}

func TestPingTimeoutWebSocket(t *testing.T) {
	t.Parallel()
	forEachMount(t, func(t *testing.T, m mount) {
		c := startFixture(t).openWS(t, m)
		c.expectText("2")
		c.expectClosed(false)
	})
}

// A close packet from the client ends the session; a parked GET is
// released with a noop.
func TestCloseByClientPolling(t *testing.T) {
	t.Parallel()
	forEachMount(t, func(t *testing.T, m mount) {
		f := startFixture(t)
		sid := f.openPolling(t, m)
		u := f.url(m, pollingQuery(sid))
		parked := f.parkGet(t, m, sid)
		closed := f.onSessionEvent(t, m, sid, "close")
		expectResponse(t, "POST close", f.post(t, u, "1"), http.StatusOK, "ok")
		expectSessionClose(t, closed, "transport close")
		expectResponse(t, "parked GET", await(t, parked), http.StatusOK, "6")
		expectEngineError(t, f.get(t, u), errUnknownSid)
	})
}

func TestCloseByClientWebSocket(t *testing.T) {
	t.Parallel()
	forEachMount(t, func(t *testing.T, m mount) {
		// The suite's case. Neither the reference server nor this one acts
		// on a close packet over websocket (the spec only says the
		// transport "can be closed"); the session ends at the ping timeout,
		// as pings go unanswered here.
		t.Run("close packet", func(t *testing.T) {
			c := startFixture(t).openWS(t, m)
			c.send("1")
			c.expectClosed(false)
		})
		// How clients really close a websocket session (an upgraded one
		// here, the usual kind).
		t.Run("close frame", func(t *testing.T) {
			f := startFixture(t)
			sid, c := f.upgrade(t, m)
			closed := f.onSessionEvent(t, m, sid, "close")
			msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
			if err := c.c.WriteControl(websocket.CloseMessage, msg, time.Now().Add(waitTimeout)); err != nil {
				t.Fatalf("write close frame: %v", err)
			}
			expectSessionClose(t, closed, "transport close")
		})
	})
}

// Closing the server answers every parked GET with a close packet (v3.0.5
// leaves them hanging; internal/engineio fixes that).
func TestServerCloseAnswersParkedGet(t *testing.T) {
	t.Parallel()
	forEachMount(t, func(t *testing.T, m mount) {
		f := startFixture(t)
		parked := f.parkGet(t, m, f.openPolling(t, m))
		f.Close()
		expectResponse(t, "parked GET", await(t, parked), http.StatusOK, "1")
	})
}

// upgradeProbe opens a polling session, probes a websocket for it and
// returns both, the upgrade not yet completed.
func (f *testFixture) upgradeProbe(t *testing.T, m mount) (string, *wsConn) {
	t.Helper()
	sid := f.openPolling(t, m)
	c := f.dialWS(t, m, "EIO=4&transport=websocket&sid="+sid)
	c.send("2probe")
	c.expectText("3probe")
	return sid, c
}

// upgrade completes an upgrade and returns once the server has switched.
func (f *testFixture) upgrade(t *testing.T, m mount) (string, *wsConn) {
	t.Helper()
	sid, c := f.upgradeProbe(t, m)
	upgraded := f.onSessionEvent(t, m, sid, "upgrade")
	c.send("5")
	waitSignal(t, "the upgrade", upgraded)
	return sid, c
}

// expectWorking checks that the session still carries traffic, with a
// round trip the mount answers: an echo, or a namespace connect.
func expectWorking(c *wsConn, m mount) {
	c.t.Helper()
	if m.path == engineMount.path {
		c.send("4hello")
		if got := c.readSkippingPings(); got != text("4hello") {
			c.t.Fatalf("echo: got %v, want %v", got, text("4hello"))
		}
		return
	}
	c.send("40")
	if got := c.readSkippingPings(); got.binary || !strings.HasPrefix(got.data, `40{"sid":`) {
		c.t.Fatalf("connect: got %v, want 40{\"sid\":...}", got)
	}
}

func TestUpgrade(t *testing.T) {
	t.Parallel()
	forEachMount(t, func(t *testing.T, m mount) {
		f := startFixture(t)
		sid, c := f.upgradeProbe(t, m)
		// The pending polling cycle is ended with a noop so the client can
		// switch.
		p := &pollingConn{t: t, f: f, url: f.url(m, pollingQuery(sid))}
		if got := p.readSkippingPings(); got != text("6") {
			t.Fatalf("GET during upgrade: got %v, want a noop", got)
		}
		upgraded := f.onSessionEvent(t, m, sid, "upgrade")
		c.send("5")
		waitSignal(t, "the upgrade", upgraded)
		expectWorking(c, m)
	})
}

func TestUpgradeIgnoresPollingAfterwards(t *testing.T) {
	t.Parallel()
	forEachMount(t, func(t *testing.T, m mount) {
		f := startFixture(t)
		sid, c := f.upgrade(t, m)
		expectEngineError(t, f.get(t, f.url(m, pollingQuery(sid))), errBadRequest)
		res := f.post(t, f.url(m, pollingQuery(sid)), "4hello")
		if res.status != http.StatusBadRequest {
			t.Errorf("POST after upgrade: got %d %q, want 400", res.status, res.body)
		}
		expectWorking(c, m)
	})
}

func TestUpgradeIgnoresSecondWebSocket(t *testing.T) {
	t.Parallel()
	forEachMount(t, func(t *testing.T, m mount) {
		f := startFixture(t)
		sid, c := f.upgrade(t, m)
		second, err := f.tryDialWS(t, m, "EIO=4&transport=websocket&sid="+sid)
		if err == nil {
			second.expectClosed(false)
		}
		expectWorking(c, m)
	})
}
