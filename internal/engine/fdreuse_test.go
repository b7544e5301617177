package engine

import (
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
		f := newFixture(t, func(c *Config) { c.PingInterval, c.PingTimeout = Default().PingInterval, Default().PingTimeout })
		url := "ws" + strings.TrimPrefix(f.url("EIO=4&transport=websocket"), "http")
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
		f.srv.Close()
		wg.Wait()
		f.web.Close()
	}
}
