package engineio

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zishang520/socket.io/parsers/engine/v3/packet"
	engine "github.com/zishang520/socket.io/servers/engine/v3"
	"github.com/zishang520/socket.io/servers/engine/v3/transports"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// directServer is a test server whose sockets also come wrapped by Direct,
// counting the messages that went the direct way.
func directServer(t *testing.T) (*testServer, chan engine.Socket, *atomic.Int64) {
	t.Helper()
	srv := newTestServer(t, quiet(fixedVariant.config()))
	wrapped := make(chan engine.Socket, 4)
	var direct atomic.Int64
	_ = Direct(srv.eng, DirectOptions{Sent: func(int) { direct.Add(1) }}).On("connection", func(a ...any) { wrapped <- a[0].(engine.Socket) })
	return srv, wrapped, &direct
}

// engineWay is a send callback: a Write with one takes the engine's way.
func engineWay(transports.Transport) {}

// Messages written the direct way and the engine's way, interleaved, reach
// the peer in the order written.
func TestDirectWritesKeepOrderWithTheEngines(t *testing.T) {
	srv, wrapped, direct := directServer(t)
	c, _ := openWS(t, srv)
	ds, err := waitFor(wrapped, waitLimit, "the wrapped socket")
	if err != nil {
		t.Fatal(err)
	}
	const messages = 60 // under the test client's 64-frame buffer
	for i := range messages {
		data := types.NewStringBufferString(fmt.Sprintf("m%d", i))
		if i%3 == 0 {
			ds.Write(data, nil, engineWay)
		} else {
			ds.Write(data, nil, nil)
		}
	}
	for i := range messages {
		if f, err := c.next(waitLimit); err != nil || f != fmt.Sprintf("4m%d", i) {
			t.Fatalf("message %d: %q, %v", i, f, err)
		}
	}
	if n := direct.Load(); n != messages*2/3 {
		t.Fatalf("%d messages went the direct way, want %d", n, messages*2/3)
	}
}

// Messages the engine buffered for long-polling reach the peer over the
// websocket it upgraded to before any written the direct way afterwards.
func TestDirectWritesWaitForTheUpgradeFlush(t *testing.T) {
	srv, wrapped, direct := directServer(t)
	ss := srv.openPolling(t)
	ds, err := waitFor(wrapped, waitLimit, "the wrapped socket")
	if err != nil {
		t.Fatal(err)
	}
	c := srv.dialWS(t, "sid="+ss.sid)
	if err := c.send("2probe"); err != nil {
		t.Fatal(err)
	}
	if f, err := c.next(waitLimit); err != nil || f != "3probe" {
		t.Fatalf("probe answer: %q, %v", f, err)
	}
	// Buffered by the engine: no GET is parked to take them.
	const buffered, after = 20, 20
	for i := range buffered {
		ds.Write(types.NewStringBufferString(fmt.Sprintf("b%d", i)), nil, nil)
	}
	upgraded := make(chan struct{})
	_ = ss.es.On("upgrade", func(...any) { close(upgraded) })
	if err := c.send("5"); err != nil {
		t.Fatal(err)
	}
	if _, err := waitFor(upgraded, waitLimit, "the upgrade"); err != nil {
		t.Fatal(err)
	}
	for i := range after {
		ds.Write(types.NewStringBufferString(fmt.Sprintf("a%d", i)), nil, nil)
	}
	var want []string
	for i := range buffered {
		want = append(want, fmt.Sprintf("4b%d", i))
	}
	for i := range after {
		want = append(want, fmt.Sprintf("4a%d", i))
	}
	for i, w := range want {
		f, err := c.next(waitLimit)
		if err != nil || f != w {
			t.Fatalf("frame %d: %q, %v; want %q", i, f, err, w)
		}
	}
	// Once the engine has flushed to the websocket, writes go direct again.
	before := direct.Load()
	for i := 0; direct.Load() == before; i++ {
		if i == 20 {
			t.Fatalf("nothing went the direct way after the upgrade flush (%d direct before it)", before)
		}
		ds.Write(types.NewStringBufferString(fmt.Sprintf("z%d", i)), nil, nil)
		if f, err := c.next(waitLimit); err != nil || f != fmt.Sprintf("4z%d", i) {
			t.Fatalf("after the flush, message %d: %q, %v", i, f, err)
		}
	}
}

// With coalescing, a broadcast frame to a connection idle for the delay
// goes at once; those that follow soon after wait, and the next message
// that may not wait takes them along, in order.
func TestBroadcastFramesCoalesce(t *testing.T) {
	set := newTransports(testPingSettle, Options{BroadcastCoalesce: time.Hour}) // nothing here waits for the timer
	srv := newTestServer(t, quiet(serverConfig{transports: set, handler: true}))
	wrapped := make(chan engine.Socket, 4)
	_ = Direct(srv.eng, DirectOptions{}).On("connection", func(a ...any) { wrapped <- a[0].(engine.Socket) })
	c, _ := openWS(t, srv)
	ds, err := waitFor(wrapped, waitLimit, "the wrapped socket")
	if err != nil {
		t.Fatal(err)
	}
	w := ds.Transport().(*websocketTransport)
	w.mu.Lock()
	w.lastWrite = time.Time{} // as if idle for longer than the delay
	w.mu.Unlock()
	broadcast := func(s string) {
		ds.Write(types.NewStringBufferString(s), &packet.Options{WsPreEncodedFrame: types.NewStringBufferString("4" + s)}, nil)
	}

	broadcast("b1")
	if f, err := c.next(waitLimit); err != nil || f != "4b1" {
		t.Fatalf("first broadcast to an idle connection: %q, %v", f, err)
	}
	broadcast("b2")
	broadcast("b3")
	w.mu.Lock()
	held, delayed := len(w.out), w.delayed
	w.mu.Unlock()
	if held != 2 || !delayed {
		t.Fatalf("after two quick broadcasts: %d frames held, delay armed %v; want 2, true", held, delayed)
	}
	ds.Write(types.NewStringBufferString("m"), nil, nil)
	for _, want := range []string{"4b2", "4b3", "4m"} {
		if f, err := c.next(waitLimit); err != nil || f != want {
			t.Fatalf("got %q, %v; want %q", f, err, want)
		}
	}
}
