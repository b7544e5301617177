package engine

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/gorilla/websocket"
)

// TestClosesSpareNewConnections closes servers while their clients hang
// up, over and over, and checks that each new server's first websocket
// lives: a close from outside the poller once let a new connection that
// got the old one's descriptor be closed by the old one's hang-up event
// (see closeWS); with that close, a run of 400 rounds failed within its first hundred.
func TestClosesSpareNewConnections(t *testing.T) {
	rounds := 400
	if testing.Short() {
		rounds = 100
	}
	for i := range rounds {
		cfg := Default()
		cfg.Logger = slog.New(slog.DiscardHandler)
		rec := &recorder{signal: make(chan struct{}, 1), echo: true}
		srv, err := New(cfg, rec)
		if err != nil {
			t.Fatal(err)
		}
		mux := http.NewServeMux()
		mux.Handle("/engine.io/", srv)
		web := httptest.NewServer(mux)
		url := "ws" + strings.TrimPrefix(web.URL, "http") + "/engine.io/?EIO=4&transport=websocket"
		dial := func() *wsConn {
			c, _, err := websocket.DefaultDialer.Dial(url, nil)
			if err != nil {
				t.Fatalf("round %d: %v", i, err)
			}
			w := &wsConn{t: t, c: c}
			if _, open, err := w.read(); err != nil || !strings.HasPrefix(open, "0{") {
				t.Fatalf("round %d: open %q %v", i, open, err)
			}
			return w
		}
		first := dial()
		first.send("4hello")
		first.expectText("4hello")
		_ = first.c.Close()
		other := dial()
		var wg sync.WaitGroup
		wg.Go(func() { _ = other.c.Close() })
		srv.Close()
		wg.Wait()
		web.Close()
	}
}
