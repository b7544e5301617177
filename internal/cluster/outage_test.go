package cluster_test

import (
	"fmt"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// outageDuration is how long the fault tests keep Redis away (the issue's
// 10 s shortened; the behaviour is steady after the first second).
const outageDuration = 3 * time.Second

func cpuTime(t *testing.T) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// chatPair is two clients in one chat room on node a and one on node b.
type chatPair struct {
	a1, a2, b1 *client
	seq        int
}

func newChatPair(t *testing.T, a, b *node) *chatPair {
	t.Helper()
	p := &chatPair{a1: dial(t, a, "/chat"), a2: dial(t, a, "/chat"), b1: dial(t, b, "/chat")}
	for _, c := range []*client{p.a1, p.a2, p.b1} {
		if ack := c.call("join", map[string]any{"room": "r"}); ack["ok"] != true {
			t.Fatalf("join: %v", ack)
		}
	}
	return p
}

// send posts a message from a1 and returns its text.
func (p *chatPair) send(t *testing.T) string {
	t.Helper()
	p.seq++
	text := fmt.Sprintf("m%d", p.seq)
	if ack := p.a1.call("message", map[string]any{"room": "r", "text": text}); ack["ok"] != true {
		t.Fatalf("message: %v", ack)
	}
	return text
}

func withText(text string) func(map[string]any) bool {
	return func(v map[string]any) bool { return v["text"] == text }
}

func countLines(logs, msg string) int { return strings.Count(logs, `msg="`+msg) }

// Redis stops for a while and comes back: both nodes keep serving their
// local clients, stay quiet on the CPU, log the outage once each way,
// show it in /metrics, and deliver across nodes again soon after.
func TestRedisOutage(t *testing.T) {
	for _, mode := range []string{"streams", "pubsub"} {
		t.Run(mode, func(t *testing.T) {
			r := newRedisServer(t)
			r.start()
			cfg := testConfig(t, r.url(), mode, "outage")
			a, b := startNode(t, cfg), startNode(t, cfg)
			channel := map[string]string{"streams": "outage#/chat#", "pubsub": "outage-request#/chat#"}[mode]
			waitSubscribers(t, r.addr(), channel, 2)
			p := newChatPair(t, a, b)
			p.b1.event("message", withText(p.send(t)))

			goroutines := runtime.NumGoroutine()
			r.stop()
			eventually(t, 3*time.Second, func() error {
				if a.redisUp() != 0 || b.redisUp() != 0 {
					return fmt.Errorf("sockside_adapter_redis_up still 1")
				}
				return nil
			})

			cpu0, wall0 := cpuTime(t), time.Now()
			for time.Since(wall0) < outageDuration {
				text := p.send(t) // local broadcasts keep working
				p.a2.event("message", withText(text))
				time.Sleep(100 * time.Millisecond) // pacing, not synchronisation
			}
			share := float64(cpuTime(t)-cpu0) / float64(time.Since(wall0))
			t.Logf("%s: CPU during the outage: %.1f%% of a core for 2 nodes (10 local messages/s)", mode, share*100)
			if share > 0.05*2 {
				t.Errorf("CPU during the outage %.1f%% of a core, want < 5%% per node", share*100)
			}
			if g := runtime.NumGoroutine(); g > goroutines+20 {
				t.Errorf("goroutines %d -> %d during the outage", goroutines, g)
			}

			r.start()
			back := time.Now()
			var resumed time.Duration
			eventually(t, 5*time.Second, func() error {
				text := p.send(t)
				if _, err := p.b1.tryEvent("message", withText(text), 100*time.Millisecond); err != nil {
					return err
				}
				resumed = time.Since(back)
				return nil
			})
			t.Logf("%s: cross-node delivery resumed %s after Redis returned", mode, resumed.Round(time.Millisecond))
			if resumed > 2*time.Second {
				t.Errorf("resumed after %s, want <= 2s", resumed)
			}
			eventually(t, 2*time.Second, func() error {
				if a.redisUp() != 1 || b.redisUp() != 1 {
					return fmt.Errorf("sockside_adapter_redis_up not back to 1")
				}
				return nil
			})
			for _, n := range []*node{a, b} {
				logs := n.logs.String()
				if lost, again := countLines(logs, "redis connection lost"), countLines(logs, "redis reachable again"); lost != 1 || again != 1 {
					t.Errorf("outage logged %d times at start and %d at end, want 1 and 1:\n%s", lost, again, logs)
				}
			}
		})
	}
}

// Redis unreachable at start-up: the node starts, warns once, serves its
// local clients, and joins the cluster when Redis appears.
func TestStartsWithoutRedis(t *testing.T) {
	r := newRedisServer(t) // port reserved, nothing listening yet
	cfg := testConfig(t, r.url(), "streams", "late")
	started := time.Now()
	a := startNode(t, cfg)
	if d := time.Since(started); d > 2*time.Second {
		t.Errorf("start-up took %s without Redis", d)
	}
	if !strings.Contains(a.logs.String(), "redis unreachable at start-up") || a.redisUp() != 0 {
		t.Fatalf("no start-up warning or gauge not 0:\n%s", a.logs.String())
	}
	c1, c2 := dial(t, a, "/chat"), dial(t, a, "/chat")
	c1.call("join", map[string]any{"room": "r"})
	if ack := c2.call("join", map[string]any{"room": "r"}); ack["members"] != 2.0 {
		t.Fatalf("local join without Redis: %v", ack)
	}
	c1.call("message", map[string]any{"room": "r", "text": "local"})
	c2.event("message", withText("local"))

	r.start()
	b := startNode(t, cfg)
	eventually(t, 3*time.Second, func() error {
		if a.redisUp() != 1 {
			return fmt.Errorf("node a has not joined")
		}
		return nil
	})
	waitSubscribers(t, r.addr(), "late#/chat#", 2)
	cb := dial(t, b, "/chat")
	if ack := cb.call("join", map[string]any{"room": "r"}); ack["members"] != 3.0 {
		t.Fatalf("members across nodes after Redis appeared: %v", ack)
	}
	c1.call("message", map[string]any{"room": "r", "text": "joined"})
	cb.event("message", withText("joined"))
	if n := countLines(a.logs.String(), "redis unreachable at start-up"); n != 1 {
		t.Errorf("start-up warning logged %d times", n)
	}
}
