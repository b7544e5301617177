package cluster_test

// A Node.js socket.io node (Node's own adapters, run by e2e/lib/nodepeer.mjs
// as a child process) beside in-process Go nodes, and Node's requests as its
// adapters send them.

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// nodePeer is e2e/lib/nodepeer.mjs in child-process mode.
type nodePeer struct {
	url   string // its Socket.IO server
	t     *testing.T
	stdin io.WriteCloser
	lines chan map[string]any
}

// startNodePeer runs the Node peer on the shared Redis with prefix, or skips
// when node or the e2e dependencies (npm ci in e2e/) are missing.
func startNodePeer(t *testing.T, mode, prefix string) *nodePeer {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node not installed")
	}
	e2e, err := filepath.Abs("../../e2e")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(e2e, "node_modules", "@socket.io", "redis-streams-adapter")); err != nil {
		t.Skip("e2e dependencies not installed (npm ci in e2e/)")
	}
	cmd := exec.Command("node", filepath.Join(e2e, "lib", "nodepeer.mjs"))
	cmd.Env = append(os.Environ(), "NODEPEER_MODE="+mode, "NODEPEER_REDIS="+sharedRedis, "NODEPEER_PREFIX="+prefix)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &nodePeer{t: t, stdin: stdin, lines: make(chan map[string]any, 16)}
	go func() {
		defer close(p.lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var v map[string]any
			if json.Unmarshal(sc.Bytes(), &v) == nil {
				p.lines <- v
			}
		}
	}()
	t.Cleanup(func() {
		_ = stdin.Close() // the peer stops its server and exits
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	v := p.next(10 * time.Second)
	if v["ready"] != true {
		t.Fatalf("node peer: %v", v)
	}
	p.url, _ = v["url"].(string)
	return p
}

// next is the peer's next output line (fails after within).
func (p *nodePeer) next(within time.Duration) map[string]any {
	p.t.Helper()
	select {
	case v, ok := <-p.lines:
		if !ok {
			p.t.Fatal("node peer exited")
		}
		return v
	case <-time.After(within):
		p.t.Fatalf("no output from the node peer within %v", within)
		return nil
	}
}

func (p *nodePeer) send(cmd map[string]any) {
	p.t.Helper()
	b, _ := json.Marshal(cmd)
	if _, err := p.stdin.Write(append(b, '\n')); err != nil {
		p.t.Fatal(err)
	}
}

// Defect 7 (pubsub): a node with no matching socket answered a fetchSockets
// request without a "sockets" array. Node's redis-adapter counts such an
// answer but finishes the request only on one with the array, so Node's
// fetchSockets timed out whenever such an answer came last.
func TestPubSubFetchAnswerHasSockets(t *testing.T) {
	needRedis(t)
	cfg := testConfig(t, sharedRedis, "pubsub", testPrefix(t))
	startNode(t, cfg) // no client: nothing matches
	waitSubscribers(t, "127.0.0.1:6379", cfg.RedisPrefix+"-request#/chat#", 1)

	ctx := context.Background()
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer c.Close()
	sub := c.Subscribe(ctx, cfg.RedisPrefix+"-response#/chat#")
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	// the request as Node's redis-adapter 8.3 sends it
	req := `{"uid":"node-test","requestId":"r1","type":5,"opts":{"rooms":["chat:lobby"],"except":[]}}`
	if err := c.Publish(ctx, cfg.RedisPrefix+"-request#/chat#", req).Err(); err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	msg, err := sub.ReceiveMessage(rctx)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	var resp map[string]any
	if err := json.Unmarshal([]byte(msg.Payload), &resp); err != nil {
		t.Fatalf("answer %q: %v", msg.Payload, err)
	}
	if sockets, ok := resp["sockets"].([]any); !ok || len(sockets) != 0 || resp["requestId"] != "r1" {
		t.Fatalf("answer %s, want requestId r1 and an empty sockets array", msg.Payload)
	}
}
