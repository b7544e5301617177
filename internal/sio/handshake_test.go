package sio

import (
	"testing"

	"github.com/gorilla/websocket"

	"github.com/sockside/sockside/config"
)

// A client that answers the open packet at once and emits the moment its
// CONNECT arrives (what socket.io-client does with transports: ["websocket"]
// and an emit in its "connect" handler) must never lose either packet (the
// library's engine lost them in two races).
func TestImmediateConnectAndEmitAreNeverLost(t *testing.T) {
	srv, ts := newTestServer(t, func(c *config.Config) { c.RateLimit = 0 })
	HandleRaw(srv.Namespace("/"), "ping", func(_ *Client, args []any) ([]any, error) { return args, nil })
	for i := range 200 {
		conn := dialSocket(t, ts) // sends "40" right after the open packet
		if err := conn.WriteMessage(websocket.TextMessage, []byte(`421["ping",1]`)); err != nil {
			t.Fatal(err)
		}
		if got := expectPrefix(t, conn, "431"); got != "431[1]" {
			t.Fatalf("connection %d: ack = %q", i, got)
		}
		_ = conn.Close()
	}
}
