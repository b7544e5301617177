package engineio

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	engine "github.com/zishang520/socket.io/servers/engine/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

func boundedServer(t *testing.T, limit int64, slow chan<- string) *testServer {
	t.Helper()
	set := newTransports(testPingSettle, Options{SendBuffer: limit, OnSlowConsumer: func(sid string, queued int64) {
		if queued <= limit {
			t.Errorf("cut off %s with %d bytes queued, under the %d limit", sid, queued, limit)
		}
		slow <- sid
	}})
	return newTestServer(t, quiet(serverConfig{transports: set, handler: true}))
}

func openWS(t *testing.T, srv *testServer) (*wsClient, engine.Socket) {
	t.Helper()
	c := srv.dialWS(t, "")
	if f, err := c.next(waitLimit); err != nil || !strings.HasPrefix(f, "0{") {
		t.Fatalf("open packet: %q, %v", f, err)
	}
	es, err := waitFor(srv.conns, waitLimit, "the engine's socket")
	if err != nil {
		t.Fatal(err)
	}
	return c, es
}

// A peer that stops reading is cut off once more than the bound is queued
// for it (instead of the engine buffering without limit), with reason
// "transport error"; a peer that reads on the same server is unaffected.
func TestSlowConsumerIsCutOff(t *testing.T) {
	const limit = 1 << 20
	slow := make(chan string, 4)
	srv := boundedServer(t, limit, slow)
	healthy, hs := openWS(t, srv)
	_, ss := openWS(t, srv) // its client stops reading after 64 frames (wsClient's buffer)
	reasons := make(chan string, 1)
	_ = ss.On("close", func(a ...any) { reasons <- a[0].(string) })

	payload := strings.Repeat("x", 64<<10)
	var sent atomic.Int64
	for i := 0; i < 2000 && len(slow) == 0; i++ { // at most 128 MiB offered
		ss.Send(types.NewStringBufferString(payload), nil, nil)
		sent.Add(int64(len(payload)))
	}
	sid, err := waitFor(slow, waitLimit, "the slow-consumer cut-off")
	if err != nil {
		t.Fatalf("%v (offered %d bytes)", err, sent.Load())
	}
	if sid != ss.Id() {
		t.Fatalf("cut off %s, want the stuck peer %s", sid, ss.Id())
	}
	reason, err := waitFor(reasons, waitLimit, "the stuck peer's close")
	if err != nil || reason != "transport error" {
		t.Fatalf("close reason %q, %v; want transport error", reason, err)
	}
	// Nothing more is queued for it.
	ss.Send(types.NewStringBufferString(payload), nil, nil)

	for i := range 50 { // under wsClient's 64-frame buffer
		hs.Send(types.NewStringBufferString(fmt.Sprintf("m%d", i)), nil, nil)
	}
	for i := range 50 {
		f, err := healthy.next(waitLimit)
		if err != nil || f != fmt.Sprintf("4m%d", i) {
			t.Fatalf("healthy peer, message %d: %q, %v", i, f, err)
		}
	}
	if hs.ReadyState() != "open" {
		t.Fatalf("healthy peer's socket is %s", hs.ReadyState())
	}
}

// A peer that keeps reading is never cut off, however much passes through
// the bound over time.
func TestReadingConsumerIsNotCutOff(t *testing.T) {
	const limit = 1 << 20
	slow := make(chan string, 1)
	srv := boundedServer(t, limit, slow)
	c, es := openWS(t, srv)
	payload := strings.Repeat("y", 4<<10)
	for round := range 100 { // 12.5 MiB through a 1 MiB bound
		for range 32 {
			es.Send(types.NewStringBufferString(payload), nil, nil)
		}
		for i := range 32 {
			if f, err := c.next(waitLimit); err != nil || len(f) != len(payload)+1 {
				t.Fatalf("round %d, message %d: %d bytes, %v", round, i, len(f), err)
			}
		}
	}
	if len(slow) != 0 || es.ReadyState() != "open" {
		t.Fatalf("reading peer cut off (state %s)", es.ReadyState())
	}
}
