package sio

import (
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/sockside/sockside/config"
)

// nested returns a JSON value nested depth levels deep ([[...[1]...]]).
func nested(depth int) string {
	return strings.Repeat("[", depth) + "1" + strings.Repeat("]", depth)
}

func echoServer(t *testing.T, mutate func(*config.Config)) *websocket.Conn {
	t.Helper()
	srv, ts := newTestServer(t, func(c *config.Config) {
		c.RateLimit = 0
		if mutate != nil {
			mutate(c)
		}
	})
	HandleRaw(srv.Namespace("/"), "echo", func(_ *Client, args []any) ([]any, error) { return args, nil })
	srv.Namespace("/chat")
	return dialSocket(t, ts)
}

func write(t *testing.T, conn *websocket.Conn, kind int, msg string) {
	t.Helper()
	if err := conn.WriteMessage(kind, []byte(msg)); err != nil {
		t.Fatalf("write %.40q: %v", msg, err)
	}
}

// expectClosed reads until the server closes the connection, failing if
// it is still open after within.
func expectClosed(t *testing.T, conn *websocket.Conn, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		_ = conn.SetReadDeadline(deadline)
		_, b, err := conn.ReadMessage()
		if err != nil {
			if ne, ok := err.(interface{ Timeout() bool }); ok && ne.Timeout() {
				t.Fatalf("connection still open after %s", within)
			}
			return
		}
		if string(b) == "2" {
			_ = conn.WriteMessage(websocket.TextMessage, []byte("3"))
		}
	}
}

// The argument array is level 1: an argument 31 deep is the deepest
// accepted at the default 32. A deeper one is refused with an error ack
// and the connection goes on.
func TestDeepEventArgumentsRefusedWithAck(t *testing.T) {
	conn := echoServer(t, nil)
	write(t, conn, websocket.TextMessage, `421["echo",`+nested(31)+`]`)
	if got, want := expectPrefix(t, conn, "431"), `431[`+nested(31)+`]`; got != want {
		t.Fatalf("at the limit: ack %.60q, want the echo", got)
	}
	write(t, conn, websocket.TextMessage, `422["echo",`+nested(32)+`]`)
	if got, want := expectPrefix(t, conn, "432"), `432[{"ok":false,"error":"payload nested deeper than 32 levels"}]`; got != want {
		t.Fatalf("over the limit: ack %q, want %q", got, want)
	}
	// 100,000 levels (under the payload limit): refused just the same,
	// without decoding.
	write(t, conn, websocket.TextMessage, `423["echo",{"a":`+nested(100_000)+`}]`)
	expectPrefix(t, conn, `433[{"ok":false,"error":"payload nested deeper than 32 levels"}]`)
	write(t, conn, websocket.TextMessage, `424["echo","still here"]`)
	if got := expectPrefix(t, conn, "434"); got != `434["still here"]` {
		t.Fatalf("after refusals: %q", got)
	}
}

func TestDepthLimitIsConfigurable(t *testing.T) {
	conn := echoServer(t, func(c *config.Config) { c.MaxJSONDepth = 4 })
	write(t, conn, websocket.TextMessage, `421["echo",`+nested(3)+`]`)
	expectPrefix(t, conn, `431[`+nested(3)+`]`)
	write(t, conn, websocket.TextMessage, `422["echo",{"a":`+nested(3)+`}]`)
	expectPrefix(t, conn, `432[{"ok":false,"error":"payload nested deeper than 4 levels"}]`)
}

func TestLongEventNameRefusedWithAck(t *testing.T) {
	conn := echoServer(t, nil)
	name := strings.Repeat("e", 256)
	write(t, conn, websocket.TextMessage, `421["`+name+`"]`)
	expectPrefix(t, conn, `431[{"ok":false,"error":"unknown event \"`+name+`\""}]`)
	write(t, conn, websocket.TextMessage, `422["`+name+`e",1]`)
	expectPrefix(t, conn, `432[{"ok":false,"error":"event name longer than 256 bytes"}]`)
	write(t, conn, websocket.TextMessage, `423["echo",1]`)
	expectPrefix(t, conn, `433[1]`)
}

// A refused binary event still consumes its attachments, so the stream
// stays in step.
func TestRefusedBinaryEventConsumesAttachments(t *testing.T) {
	conn := echoServer(t, nil)
	write(t, conn, websocket.TextMessage, `451-1["echo",{"_placeholder":true,"num":0},`+nested(40)+`]`)
	write(t, conn, websocket.BinaryMessage, "\x01\x02")
	expectPrefix(t, conn, `431[{"ok":false,"error":"payload nested deeper than 32 levels"}]`)
	write(t, conn, websocket.TextMessage, `451-2["echo",{"_placeholder":true,"num":0}]`)
	write(t, conn, websocket.BinaryMessage, "\x03")
	expectPrefix(t, conn, `461-2[{"_placeholder":true,"num":0}]`)
}

func TestAttachmentCountOverLimitClosesConnection(t *testing.T) {
	conn := echoServer(t, nil)
	write(t, conn, websocket.TextMessage, `451000-["echo",{"_placeholder":true,"num":0}]`)
	expectClosed(t, conn, 5*time.Second)
}

func TestAttachmentsOverPayloadLimitCloseConnection(t *testing.T) {
	conn := echoServer(t, func(c *config.Config) { c.MaxPayload = 4096; c.SendBuffer = 0 })
	write(t, conn, websocket.TextMessage, `452-["echo",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`)
	write(t, conn, websocket.BinaryMessage, strings.Repeat("a", 3000))
	write(t, conn, websocket.BinaryMessage, strings.Repeat("b", 3000))
	expectClosed(t, conn, 5*time.Second)
}

func TestAttachmentsNeverSentAreReaped(t *testing.T) {
	conn := echoServer(t, func(c *config.Config) { c.AttachmentTimeout = 200 * time.Millisecond })
	write(t, conn, websocket.TextMessage, `451-1["echo",{"_placeholder":true,"num":0}]`)
	start := time.Now()
	expectClosed(t, conn, 5*time.Second)
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Fatalf("closed after %s, before the attachment timeout", d)
	}
}

// The reference server's rule: a packet for a namespace the socket has not
// joined closes the whole connection.
func TestEventToUnjoinedNamespaceClosesConnection(t *testing.T) {
	conn := echoServer(t, nil)
	write(t, conn, websocket.TextMessage, `42/chat,["message",{"room":"a","text":"x"}]`)
	expectClosed(t, conn, 5*time.Second)
}

// A connection that never joins a namespace is closed at
// SOCKET_CONNECT_TIMEOUT.
func TestConnectTimeoutClosesIdleHandshake(t *testing.T) {
	_, ts := newTestServer(t, func(c *config.Config) { c.ConnectTimeout = 200 * time.Millisecond })
	url := "ws" + strings.TrimPrefix(ts.URL, "http") + "/socket.io/?EIO=4&transport=websocket"
	conn, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	expectPrefix(t, conn, "0{")
	start := time.Now()
	expectClosed(t, conn, 5*time.Second)
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Fatalf("closed after %s, before the connect timeout", d)
	}
}
