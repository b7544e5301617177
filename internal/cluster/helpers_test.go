package cluster_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	dto "github.com/prometheus/client_model/go"
	"github.com/redis/go-redis/v9"

	"github.com/sockside/sockside/config"
	"github.com/sockside/sockside/internal/cluster"
	"github.com/sockside/sockside/internal/metrics"
	"github.com/sockside/sockside/internal/sio"
	"github.com/sockside/sockside/internal/siotest"
)

// sharedRedis is the Redis the functional tests use, each with its own prefix.
const sharedRedis = "redis://127.0.0.1:6379/0"

// needRedis skips when the shared Redis is not running (.ci/run starts one).
func needRedis(t *testing.T) {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379", DialTimeout: time.Second})
	defer c.Close()
	if err := c.Ping(context.Background()).Err(); err != nil {
		t.Skipf("no Redis on 127.0.0.1:6379 (%v)", err)
	}
}

// testPrefix is a key prefix no other test run uses.
func testPrefix(t *testing.T) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	p := "test-" + hex.EncodeToString(b)
	t.Cleanup(func() {
		c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
		defer c.Close()
		ctx := context.Background()
		keys, _ := c.Keys(ctx, p+"*").Result()
		if len(keys) > 0 {
			c.Del(ctx, keys...)
		}
	})
	return p
}

func testConfig(t *testing.T, redisURL, mode, prefix string) config.Config {
	t.Helper()
	env := map[string]string{
		"REDIS_URL": redisURL, "SOCKET_ADAPTER": mode, "REDIS_PREFIX": prefix,
		"SOCKET_RATE_LIMIT": "0", "FEED_INTERVAL": "1h",
	}
	cfg, err := config.Load(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// node is one in-process server: the real namespaces on sio.New with the
// cluster's adapters.
type node struct {
	t       *testing.T
	srv     *sio.Server
	cluster *cluster.Cluster
	metrics *metrics.Metrics
	ts      *httptest.Server
	logs    *siotest.Logs
	stop    func()
}

// startNode starts a node with the cluster built from cfg.
func startNode(t *testing.T, cfg config.Config) *node {
	t.Helper()
	n := &node{t: t, metrics: metrics.New(), logs: &siotest.Logs{}}
	log := slog.New(slog.NewTextHandler(n.logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	cl, err := cluster.New(cfg, cluster.Options{Logger: log, Metrics: n.metrics})
	if err != nil {
		t.Fatal(err)
	}
	n.cluster = cl
	srv, err := sio.New(sio.Options{Config: cfg, Metrics: n.metrics, Logger: log, Adapter: cl.AdapterFor(cfg.RecoveryWindow)})
	if err != nil {
		t.Fatal(err)
	}
	n.srv = srv
	registerRooms(n.srv)
	n.cluster.Start()
	mux := http.NewServeMux()
	mux.Handle(cfg.Path, n.srv.Handler())
	n.ts = httptest.NewServer(mux)
	var once sync.Once
	n.stop = func() {
		once.Do(func() {
			n.ts.CloseClientConnections()
			n.ts.Close()
			// Let the sockets finish closing on their own goroutines first:
			// sio's disconnect hooks race with Server.Close closing them too.
			deadline := time.Now().Add(5 * time.Second)
			for n.srv.Sockets() > 0 && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			_ = n.cluster.Close()
			n.srv.Close()
		})
	}
	t.Cleanup(n.stop)
	return n
}

// roomsPrefix keeps the test rooms apart from the per-socket id rooms, as
// the demo chat does (the Node peer and Redis requests name "chat:lobby").
const roomsPrefix = "chat:"

// roomMessage is what "message" broadcasts to a room.
type roomMessage struct {
	Room string `json:"room"`
	Text string `json:"text"`
}

// registerRooms adds "/chat" with what the tests drive across nodes:
// "join" (acked with the room's members on every node) and "message" (a
// broadcast to the room, sender included).
func registerRooms(srv *sio.Server) {
	n := srv.Namespace("/chat")
	message := sio.Emits[roomMessage](n, "message")
	type roomAck struct {
		OK      bool `json:"ok"`
		Members int  `json:"members"`
	}
	sio.Handle(n, "join", func(c *sio.Client, req roomMessage) (roomAck, error) {
		c.Join(roomsPrefix + req.Room)
		members, err := n.Members(roomsPrefix + req.Room)
		return roomAck{OK: err == nil, Members: members}, err
	})
	sio.Handle(n, "message", func(_ *sio.Client, req roomMessage) (roomAck, error) {
		message.ToRoom(roomsPrefix+req.Room, req)
		return roomAck{OK: true}, nil
	})
}

func (n *node) redisUp() float64 {
	var m dto.Metric
	if err := n.metrics.AdapterUp.WithLabelValues(n.cluster.Mode()).Write(&m); err != nil {
		n.t.Fatal(err)
	}
	return m.GetGauge().GetValue()
}

// waitSubscribers waits until channel has want subscribers in Redis (every
// node has subscribed), so cross-node assertions do not race start-up.
func waitSubscribers(t *testing.T, addr, channel string, want int64) {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	eventually(t, 5*time.Second, func() error {
		res, err := c.PubSubNumSub(context.Background(), channel).Result()
		if err != nil {
			return err
		}
		if res[channel] != want {
			return fmt.Errorf("%s has %d subscribers, want %d", channel, res[channel], want)
		}
		return nil
	})
}

// eventually polls cond until it returns nil or the deadline passes.
func eventually(t *testing.T, within time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %v", within, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// client is a minimal Socket.IO v5 client over a websocket, enough to join
// rooms, send events with acks and watch what arrives.
type client struct {
	t    *testing.T
	conn *websocket.Conn
	nsp  string
	wmu  sync.Mutex
	mu   sync.Mutex
	got  []string // packets received, namespace prefix stripped
	note chan struct{}
	ack  int
	sid  string
	open chan string
}

func dial(t *testing.T, n *node, nsp string) *client {
	t.Helper()
	url := "ws" + strings.TrimPrefix(n.ts.URL, "http") + "/socket.io/?EIO=4&transport=websocket"
	conn, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	c := &client{t: t, conn: conn, nsp: nsp, note: make(chan struct{}, 1), open: make(chan string, 1)}
	t.Cleanup(func() { _ = conn.Close() })
	go c.read()
	select {
	case <-c.open:
	case <-time.After(5 * time.Second):
		t.Fatal("no Engine.IO open packet")
	}
	c.send("40" + c.prefix())
	connect := c.waitPacket(func(p string) bool { return strings.HasPrefix(p, "0{") })
	var hs struct {
		Sid string `json:"sid"`
	}
	_ = json.Unmarshal([]byte(connect[1:]), &hs)
	c.sid = hs.Sid
	return c
}

func (c *client) prefix() string {
	if c.nsp == "/" {
		return ""
	}
	return c.nsp + ","
}

func (c *client) send(s string) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.conn.WriteMessage(websocket.TextMessage, []byte(s))
}

func (c *client) read() {
	for {
		_, b, err := c.conn.ReadMessage()
		if err != nil {
			return
		}
		s := string(b)
		switch {
		case s == "2":
			c.send("3")
			continue
		case strings.HasPrefix(s, "0{"): // engine open
			var open struct {
				Sid string `json:"sid"`
			}
			_ = json.Unmarshal([]byte(s[1:]), &open)
			c.open <- open.Sid
			continue
		}
		if len(s) < 2 || s[0] != '4' {
			continue
		}
		p := s[1:]
		if c.nsp != "/" {
			var ok bool
			if p, ok = cutNsp(p, c.nsp); !ok {
				continue
			}
		}
		c.mu.Lock()
		c.got = append(c.got, p)
		c.mu.Unlock()
		select {
		case c.note <- struct{}{}:
		default:
		}
	}
}

// cutNsp strips "<type><nsp>," from a packet of namespace nsp.
func cutNsp(p, nsp string) (string, bool) {
	if len(p) < 1 || !strings.HasPrefix(p[1:], nsp+",") {
		return "", false
	}
	return p[:1] + p[1+len(nsp)+1:], true
}

// waitPacket returns the first received packet matching pred (consuming it).
func (c *client) waitPacket(pred func(string) bool) string {
	c.t.Helper()
	p, err := c.tryPacket(pred, 5*time.Second)
	if err != nil {
		c.t.Fatal(err)
	}
	return p
}

func (c *client) tryPacket(pred func(string) bool, within time.Duration) (string, error) {
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		for i, p := range c.got {
			if pred(p) {
				c.got = append(c.got[:i:i], c.got[i+1:]...)
				c.mu.Unlock()
				return p, nil
			}
		}
		c.mu.Unlock()
		select {
		case <-c.note:
		case <-deadline.C:
			c.mu.Lock()
			defer c.mu.Unlock()
			return "", fmt.Errorf("%s: no matching packet within %s (unmatched: %q)", c.sid, within, c.got)
		}
	}
}

// call emits event with payload and an ack, and returns the ack's first argument.
func (c *client) call(event string, payload any) map[string]any {
	c.t.Helper()
	c.mu.Lock()
	c.ack++
	id := strconv.Itoa(c.ack)
	c.mu.Unlock()
	args, _ := json.Marshal([]any{event, payload})
	c.send("42" + c.prefix() + id + string(args))
	p := c.waitPacket(func(p string) bool { return strings.HasPrefix(p, "3"+id+"[") })
	var res []map[string]any
	if err := json.Unmarshal([]byte(p[1+len(id):]), &res); err != nil || len(res) == 0 {
		c.t.Fatalf("bad ack %q: %v", p, err)
	}
	return res[0]
}

// event returns the payload of the next event named name whose payload
// satisfies match (nil matches any).
func (c *client) tryEvent(name string, match func(map[string]any) bool, within time.Duration) (map[string]any, error) {
	var payload map[string]any
	_, err := c.tryPacket(func(p string) bool {
		if !strings.HasPrefix(p, "2[") {
			return false
		}
		var args []json.RawMessage
		if json.Unmarshal([]byte(p[1:]), &args) != nil || len(args) < 2 {
			return false
		}
		var ev string
		var v map[string]any
		if json.Unmarshal(args[0], &ev) != nil || ev != name || json.Unmarshal(args[1], &v) != nil {
			return false
		}
		if match != nil && !match(v) {
			return false
		}
		payload = v
		return true
	}, within)
	return payload, err
}

func (c *client) event(name string, match func(map[string]any) bool) map[string]any {
	c.t.Helper()
	v, err := c.tryEvent(name, match, 5*time.Second)
	if err != nil {
		c.t.Fatalf("%s: %v", name, err)
	}
	return v
}

// redisServer is a redis-server of a test's own, on a free port, that the
// test may stop and start again.
type redisServer struct {
	t    *testing.T
	port int
	cmd  *exec.Cmd
	done chan struct{}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// newRedisServer reserves a port; start runs the server on it.
func newRedisServer(t *testing.T) *redisServer {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server not installed")
	}
	r := &redisServer{t: t, port: freePort(t)}
	t.Cleanup(r.stop)
	return r
}

func (r *redisServer) addr() string { return "127.0.0.1:" + strconv.Itoa(r.port) }
func (r *redisServer) url() string  { return "redis://" + r.addr() + "/0" }

func (r *redisServer) start() {
	r.t.Helper()
	r.cmd = exec.Command("redis-server", "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--loglevel", "warning")
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	r.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { _ = cmd.Wait(); close(done) }(r.cmd, r.done)
	c := redis.NewClient(&redis.Options{Addr: r.addr(), DialTimeout: 200 * time.Millisecond})
	defer c.Close()
	eventually(r.t, 5*time.Second, func() error { return c.Ping(context.Background()).Err() })
}

// stop kills the server and waits for it to exit.
func (r *redisServer) stop() {
	if r.cmd == nil || r.cmd.Process == nil {
		return
	}
	_ = r.cmd.Process.Kill()
	<-r.done
	r.cmd = nil
}
