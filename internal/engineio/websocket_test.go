package engineio

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/zishang520/socket.io/v3/pkg/types"
)

// A server that sends and then closes at once (a kick with its reason, the
// acks before a graceful drain) must have its messages delivered before the
// close frame.
func TestWebsocketCloseWritesQueuedMessagesFirst(t *testing.T) {
	const messages = 60                    // under the test client's 64-frame buffer
	payload := strings.Repeat("x", 64<<10) // big enough that writes are still queued at the close
	runVariants(t, func(t *testing.T, v variant) error {
		srv := newTestServer(t, quiet(v.config()))
		c := srv.dialWS(t, "")
		if f, err := c.next(waitLimit); err != nil || !strings.HasPrefix(f, "0{") {
			return fmt.Errorf("open packet: %q, %v", f, err)
		}
		es, err := waitFor(srv.conns, waitLimit, "the engine's socket")
		if err != nil {
			return err
		}
		for i := range messages {
			es.Send(types.NewStringBufferString(fmt.Sprintf("%d:%s", i, payload)), nil, nil)
		}
		es.Close(false)
		for i := range messages {
			f, err := c.next(waitLimit)
			if err != nil {
				return fmt.Errorf("message %d of %d lost: %v", i, messages, err)
			}
			if want := fmt.Sprintf("4%d:", i); !strings.HasPrefix(f, want) {
				return fmt.Errorf("frame %d = %.10q, want prefix %q", i, f, want)
			}
		}
		return nil
	})
}

// A probe sent the moment the upgrade websocket opens, before the engine
// has subscribed to it, must still be answered. The window is too short to
// force from outside, so this is a stress test of our transports only (the
// library lost 5 of 80 such probes under -race and load in the conformance
// runs; see earlyPackets).
func TestUpgradeProbeSentAtOnceIsAnswered(t *testing.T) {
	srv := newTestServer(t, quiet(fixedVariant.config()))
	for i := range 50 {
		ss := srv.openPolling(t)
		c := srv.dialWS(t, "sid="+ss.sid)
		if err := c.send("2probe"); err != nil {
			t.Fatal(err)
		}
		if f, err := c.next(waitLimit); err != nil || f != "3probe" {
			t.Fatalf("probe %d: answer %q, %v", i, f, err)
		}
		_ = c.conn.Close()
	}
}

// Once hijacked, the engine's writer holds nothing of net/http's
// connection (its buffers stay referenced otherwise) and refuses writes.
func TestEngineWriterLetsGoOnHijack(t *testing.T) {
	hijacked := make(chan error, 1)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u := newEngineWriter(w)
		c, _, err := u.Hijack()
		if err == nil {
			defer c.Close()
			if u.inner() != nil {
				err = errors.New("still holds the ResponseWriter")
			} else if _, werr := u.Write([]byte("x")); !errors.Is(werr, http.ErrHijacked) {
				err = fmt.Errorf("write after hijack: %v", werr)
			}
		}
		hijacked <- err
	}))
	defer hs.Close()
	resp, err := http.Get(hs.URL)
	if err == nil {
		resp.Body.Close()
	}
	if err, _ := waitFor(hijacked, waitLimit, "the hijack"); err != nil {
		t.Fatal(err)
	}
}

// Every frame reaches a peer that reads slower than the server writes, in
// order and once, also when the writer's batches outgrow the spare it
// keeps (maxSpareFrames): the next batch must never share an array with
// the queue the senders append to.
func TestEveryFrameArrivesThroughBigBatches(t *testing.T) {
	srv := newTestServer(t, quiet(fixedVariant.config()))
	// Not the test client: its reader gives up past 64 buffered frames.
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.url, "http")+"?EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	read := func() (string, error) {
		_ = conn.SetReadDeadline(time.Now().Add(waitLimit))
		_, b, err := conn.ReadMessage()
		return string(b), err
	}
	if f, err := read(); err != nil || !strings.HasPrefix(f, "0{") {
		t.Fatalf("open packet: %q, %v", f, err)
	}
	es, err := waitFor(srv.conns, waitLimit, "the engine's socket")
	if err != nil {
		t.Fatal(err)
	}
	const messages = 20000
	pad := strings.Repeat("x", 1000)
	got := make(chan error, 1)
	go func() {
		for i := range messages {
			want := fmt.Sprintf("4m%d %s", i, pad)
			if f, err := read(); err != nil || f != want {
				got <- fmt.Errorf("message %d: %.20q, %v", i, f, err)
				return
			}
		}
		got <- nil
	}()
	for i := range messages {
		es.Send(types.NewStringBufferString(fmt.Sprintf("m%d %s", i, pad)), nil, nil)
	}
	if err, werr := waitFor(got, 4*waitLimit, "every message"); werr != nil || err != nil {
		t.Fatal(err, werr)
	}
}
