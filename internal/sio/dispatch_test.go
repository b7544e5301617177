package sio

import (
	"fmt"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/sockside/sockside/config"
)

// Acks, binary acks and refusals come back in the order the events were
// sent: one event of a connection at a time, in order.
func TestEventsRunInOrder(t *testing.T) {
	srv, ts := newTestServer(t, func(c *config.Config) { c.RateLimit = 0 })
	HandleRaw(srv.Namespace("/"), "echo", func(_ *Client, args []any) ([]any, error) { return args, nil })
	conn := dialSocket(t, ts)

	const events = 30
	for i := range events {
		switch i % 3 {
		case 0:
			write(t, conn, websocket.TextMessage, fmt.Sprintf(`42%d["echo",%d]`, i, i))
		case 1:
			write(t, conn, websocket.TextMessage, fmt.Sprintf(`42%d["nope",%d]`, i, i))
		case 2:
			write(t, conn, websocket.TextMessage, fmt.Sprintf(`451-%d["echo",{"_placeholder":true,"num":0}]`, i))
			write(t, conn, websocket.BinaryMessage, string([]byte{byte(i)}))
		}
	}
	for i := range events {
		switch i % 3 {
		case 0:
			if got, want := expectPrefix(t, conn, "43"), fmt.Sprintf("43%d[%d]", i, i); got != want {
				t.Fatalf("ack %d: %q, want %q", i, got, want)
			}
		case 1:
			if got, want := expectPrefix(t, conn, "43"), fmt.Sprintf(`43%d[{"ok":false,"error":"unknown event \"nope\""}]`, i); got != want {
				t.Fatalf("refusal %d: %q, want %q", i, got, want)
			}
		case 2:
			if got, want := expectPrefix(t, conn, "46"), fmt.Sprintf(`461-%d[{"_placeholder":true,"num":0}]`, i); got != want {
				t.Fatalf("binary ack %d: %q, want %q", i, got, want)
			}
			_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			if kind, b, err := conn.ReadMessage(); err != nil || kind != websocket.BinaryMessage || len(b) != 1 || b[0] != byte(i) {
				t.Fatalf("binary ack %d attachment: %v %v %v", i, kind, b, err)
			}
		}
	}
}
