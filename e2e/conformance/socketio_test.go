package main

// Socket.IO protocol v5 against the fixture's /socket.io/, after the
// official suite (socketio/socket.io docs/socket.io-protocol/v5-test-suite)
// and the v5 spec (docs/socket.io-protocol/v5-current.md). The suite runs
// on websocket only; every case here also runs on long-polling, the
// transport socket.io-client starts with.

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// sioConn is an Engine.IO session on either transport, seen as frames:
// wsConn or pollingConn.
type sioConn interface {
	sendFrames(frames ...frame)
	sendFinal(frames ...frame)
	// readSkippingPings answers pings and returns the next other packet.
	readSkippingPings() frame
	expectClosed(answer bool)
}

var sioTransports = []struct {
	name string
	open func(*testing.T, *testFixture) sioConn
}{
	{"websocket", func(t *testing.T, f *testFixture) sioConn { return f.openWS(t, socketioMount) }},
	{"polling", func(t *testing.T, f *testFixture) sioConn { return f.openPollingConn(t, socketioMount) }},
}

// forEachTransport runs a case on a fresh Engine.IO session per transport.
func forEachTransport(t *testing.T, run func(t *testing.T, f *testFixture, c sioConn)) {
	for _, tr := range sioTransports {
		t.Run(tr.name, func(t *testing.T) {
			t.Parallel()
			f := startFixture(t)
			run(t, f, tr.open(t, f))
		})
	}
}

func send(c sioConn, packet string) {
	c.sendFrames(text(packet))
}

// expect reads the next packets (pings aside) and compares them in order.
func expect(t *testing.T, c sioConn, want ...frame) {
	t.Helper()
	for _, w := range want {
		if got := c.readSkippingPings(); got != w {
			t.Fatalf("got %v, want %v", got, w)
		}
	}
}

// expectConnect checks a CONNECT reply (Engine.IO message "4", Socket.IO
// CONNECT "0", then the namespace prefix): its payload is exactly {sid}. It
// returns the sid.
func expectConnect(t *testing.T, c sioConn, prefix string) string {
	t.Helper()
	got := c.readSkippingPings()
	payload, ok := strings.CutPrefix(got.data, prefix)
	if got.binary || !ok {
		t.Fatalf("connect: got %v, want %s{\"sid\":...}", got, prefix)
	}
	var h map[string]any
	if err := json.Unmarshal([]byte(payload), &h); err != nil {
		t.Fatalf("connect payload %q: %v", payload, err)
	}
	sid, ok := h["sid"].(string)
	if len(h) != 1 || !ok || sid == "" {
		t.Fatalf("connect payload: got %s, want exactly a string sid", payload)
	}
	return sid
}

// connectMain joins "/" as the suite's initSocketIOConnection does and
// returns the socket's sid.
func connectMain(t *testing.T, c sioConn) string {
	t.Helper()
	send(c, "40")
	sid := expectConnect(t, c, "40")
	expect(t, c, text(`42["auth",{}]`))
	return sid
}

// disconnect sends DISCONNECT for a namespace and waits for the server to
// act on it, so that a packet sent next meets the closed namespace.
func disconnect(t *testing.T, f *testFixture, c sioConn, nsp, sid string) {
	t.Helper()
	prefix := "41"
	if nsp != "/" {
		prefix += nsp + ","
	}
	send(c, prefix)
	reason, ok := f.left.wait(nsp + " " + sid)
	if !ok {
		t.Fatalf("the server did not disconnect %q from %s", sid, nsp)
	}
	if reason != "client namespace disconnect" {
		t.Errorf("disconnect reason: got %q, want %q", reason, "client namespace disconnect")
	}
}

func TestSocketIOConnect(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, connect, reply, auth string
	}{
		{"main namespace", "40", "40", `42["auth",{}]`},
		{"main namespace with payload", `40{"token":"123"}`, "40", `42["auth",{"token":"123"}]`},
		{"custom namespace", "40/custom,", "40/custom,", `42/custom,["auth",{}]`},
		{"custom namespace with payload", `40/custom,{"token":"abc"}`, "40/custom,", `42/custom,["auth",{"token":"abc"}]`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			forEachTransport(t, func(t *testing.T, _ *testFixture, c sioConn) {
				send(c, tc.connect)
				expectConnect(t, c, tc.reply)
				expect(t, c, text(tc.auth))
			})
		})
	}
}

// A refused namespace gets CONNECT_ERROR; the session stays usable.
func TestSocketIOConnectUnknownNamespace(t *testing.T) {
	t.Parallel()
	forEachTransport(t, func(t *testing.T, _ *testFixture, c sioConn) {
		send(c, "40/random")
		expect(t, c, text(`44/random,{"message":"Invalid namespace"}`))
		connectMain(t, c)
	})
}

func TestSocketIOInvalidHandshake(t *testing.T) {
	t.Parallel()
	forEachTransport(t, func(t *testing.T, _ *testFixture, c sioConn) {
		c.sendFinal(text("4abc"))
		c.expectClosed(true)
	})
}

// A session that joins no namespace is closed after connectTimeout.
func TestSocketIOConnectTimeout(t *testing.T) {
	t.Parallel()
	for _, tr := range sioTransports {
		t.Run(tr.name, func(t *testing.T) {
			t.Parallel()
			f := startFixture(t)
			// Before the handshake, so before the server's timer starts.
			start := time.Now()
			c := tr.open(t, f)
			// Pongs keep the heartbeat from closing the session first.
			c.expectClosed(true)
			if elapsed := time.Since(start); elapsed < connectTimeout {
				t.Errorf("closed after %v, before the connect timeout (%v)", elapsed, connectTimeout)
			}
		})
	}
}

// After DISCONNECT an event for the namespace is a protocol violation that
// ends the session (the reference's "invalid state"). Nothing is sent in
// answer to the DISCONNECT: expectClosed fails on any packet but pings.
func TestSocketIODisconnectMain(t *testing.T) {
	t.Parallel()
	forEachTransport(t, func(t *testing.T, f *testFixture, c sioConn) {
		disconnect(t, f, c, "/", connectMain(t, c))
		c.sendFinal(text(`42["message","after disconnect"]`))
		c.expectClosed(true)
	})
}

func TestSocketIODisconnectCustom(t *testing.T) {
	t.Parallel()
	forEachTransport(t, func(t *testing.T, f *testFixture, c sioConn) {
		connectMain(t, c)
		send(c, "40/custom,")
		sid := expectConnect(t, c, "40/custom,")
		expect(t, c, text(`42/custom,["auth",{}]`))
		disconnect(t, f, c, "/custom", sid)
		send(c, `42["message","message to main namespace"]`)
		expect(t, c, text(`42["message-back","message to main namespace"]`))
		c.sendFinal(text(`42/custom,["message","after disconnect"]`))
		c.expectClosed(true)
	})
}

func TestSocketIOMessage(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		send []frame
		want []frame
	}{
		{"plain text",
			[]frame{text(`42["message",1,"2",{"3":[true]}]`)},
			[]frame{text(`42["message-back",1,"2",{"3":[true]}]`)}},
		{"no arguments",
			[]frame{text(`42["message"]`)},
			[]frame{text(`42["message-back"]`)}},
		{"one binary attachment",
			[]frame{text(`451-["message",{"_placeholder":true,"num":0}]`), binary(1, 2, 3)},
			[]frame{text(`451-["message-back",{"_placeholder":true,"num":0}]`), binary(1, 2, 3)}},
		{"two binary attachments",
			[]frame{text(`452-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`), binary(1, 2, 3), binary(4, 5, 6)},
			[]frame{text(`452-["message-back",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`), binary(1, 2, 3), binary(4, 5, 6)}},
		{"ack",
			[]frame{text(`421["message-with-ack",1,"2",{"3":[true]}]`)},
			[]frame{text(`431[1,"2",{"3":[true]}]`)}},
		{"ack with a larger id",
			[]frame{text(`42456["message-with-ack",1,"2",{"3":[false]}]`)},
			[]frame{text(`43456[1,"2",{"3":[false]}]`)}},
		{"binary attachments and an ack",
			[]frame{text(`452-789["message-with-ack",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`), binary(1, 2, 3), binary(4, 5, 6)},
			[]frame{text(`462-789[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`), binary(1, 2, 3), binary(4, 5, 6)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			forEachTransport(t, func(t *testing.T, _ *testFixture, c sioConn) {
				connectMain(t, c)
				c.sendFrames(tc.send...)
				expect(t, c, tc.want...)
			})
		})
	}
}

// A packet the server cannot decode, or one that makes no sense in the
// session's state, ends the session.
func TestSocketIOInvalidPacket(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"unknown packet type":              "4abc",
		"payload not an array":             "42{}",
		"payload an object":                `42{"a":1}`,
		"empty event":                      "42[]",
		"reserved event name":              `42["disconnect"]`,
		"invalid ack id":                   `42abc["message-with-ack",1,"2",{"3":[false]}]`,
		"event for a namespace not joined": `42/custom,["message","x"]`,
	}
	for name, packet := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			forEachTransport(t, func(t *testing.T, _ *testFixture, c sioConn) {
				connectMain(t, c)
				c.sendFinal(text(packet))
				c.expectClosed(true)
			})
		})
	}
}

// socket.io-client sends CONNECT as soon as it has the open packet, so the
// first packet may follow it at once; it must reach Socket.IO however the
// server's goroutines are scheduled. (The library's engine lost it over
// websocket: the open packet went out before Socket.IO listened.) The
// server binds a websocket's reader before the open packet leaves.
func TestFirstPacketAfterOpen(t *testing.T) {
	t.Parallel()
	f := startFixture(t)
	for range 50 {
		c := f.dialWS(t, socketioMount, "EIO=4&transport=websocket")
		parseOpen(t, c.readText(), []string{})
		c.send("40")
		expectConnect(t, c, "40")
		_ = c.c.Close()
	}
}
