package cluster_test

// Regression tests for the defects the library's adapters had, each fixed
// by a wrapper of ours until the adapters became our own (pubsub.go,
// streams.go): they now guard those.

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/vmihailenco/msgpack/v5"
)

// twoNodes starts two nodes on the shared Redis and waits until both are
// subscribed.
func twoNodes(t *testing.T, mode string) (*node, *node) {
	t.Helper()
	needRedis(t)
	cfg := testConfig(t, sharedRedis, mode, testPrefix(t))
	a, b := startNode(t, cfg), startNode(t, cfg)
	channel := cfg.RedisPrefix + "#/chat#"
	if mode == "pubsub" {
		channel = cfg.RedisPrefix + "-request#/chat#"
	}
	waitSubscribers(t, "127.0.0.1:6379", channel, 2)
	return a, b
}

// membersAcrossNodes joins one chat room from a client on each node and
// returns the member count the second join reports.
func membersAcrossNodes(t *testing.T, a, b *node) float64 {
	t.Helper()
	ca, cb := dial(t, a, "/chat"), dial(t, b, "/chat")
	if ack := ca.call("join", map[string]any{"room": "lobby"}); ack["members"] != 1.0 {
		t.Fatalf("first join: %v", ack)
	}
	ack := cb.call("join", map[string]any{"room": "lobby"})
	if ack["ok"] != true {
		t.Fatalf("second join: %v", ack)
	}
	return ack["members"].(float64)
}

// Defect 1: fetchSockets on the streams adapter waited for no other node
// (the cluster adapter called its base ServerCount, always 1), so chat
// member counts were per node.
func TestFetchSocketsCountsEveryNode(t *testing.T) {
	for _, mode := range []string{"streams", "pubsub"} {
		t.Run(mode, func(t *testing.T) {
			a, b := twoNodes(t, mode)
			if got := membersAcrossNodes(t, a, b); got != 2 {
				t.Fatalf("members = %v, want 2 (one client on each node)", got)
			}
		})
	}
}

// lastBroadcast returns the data of the newest BROADCAST entry of a stream.
func lastBroadcast(t *testing.T, stream string) map[string]any {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer c.Close()
	entries, err := c.XRevRangeN(context.Background(), stream, "+", "-", 20).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Values["type"] == "3" {
			var v map[string]any
			if err := json.Unmarshal([]byte(e.Values["data"].(string)), &v); err != nil {
				t.Fatal(err)
			}
			return v
		}
	}
	t.Fatal("no broadcast in the stream")
	return nil
}

// nodeReadable reports why Node's adapter could not read a stream entry:
// its session restore needs opts.rooms and opts.except arrays, and it adds
// recovery offsets only when flags.volatile is absent.
func nodeReadable(data map[string]any) error {
	opts, _ := data["opts"].(map[string]any)
	if _, ok := opts["rooms"].([]any); !ok {
		return fmt.Errorf("opts.rooms missing: %v", opts)
	}
	if _, ok := opts["except"].([]any); !ok {
		return fmt.Errorf("opts.except missing: %v", opts)
	}
	if flags, _ := opts["flags"].(map[string]any); flags != nil {
		if _, ok := flags["volatile"]; ok {
			return fmt.Errorf("flags.volatile present (%v): Node would add no offset", flags)
		}
	}
	return nil
}

// Defect 3: stream entries written by Go were unreadable to Node: no empty
// opts.except (Node's session restore throws) and volatile:false (Node adds
// no recovery offset for its clients).
func TestStreamEntriesAreNodeReadable(t *testing.T) {
	a, _ := twoNodes(t, "streams")
	chat, _ := a.srv.Lookup("/chat")
	if err := chat.Broadcast([]string{"some-room"}, nil, "x", map[string]any{"n": 1}); err != nil {
		t.Fatal(err)
	}
	if err := nodeReadable(lastBroadcast(t, a.srv.Config().RedisPrefix)); err != nil {
		t.Fatal(err)
	}
}

// A fetchSockets request as Node's redis-streams-adapter sends it (msgpack
// over pub/sub) gets this node's sockets back on the requester's channel.
func TestAnswersNodeFetchSockets(t *testing.T) {
	a, _ := twoNodes(t, "streams")
	ca := dial(t, a, "/chat")
	ca.call("join", map[string]any{"room": "lobby"})
	prefix := a.srv.Config().RedisPrefix

	ctx := context.Background()
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer c.Close()
	sub := c.Subscribe(ctx, prefix+"#/chat#node-test#")
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil { // subscription confirmed
		t.Fatal(err)
	}
	req, _ := msgpack.Marshal(map[string]any{
		"uid": "node-test", "nsp": "/chat", "type": 7,
		"data": map[string]any{"requestId": "r1", "opts": map[string]any{"rooms": []string{"chat:lobby"}, "except": []string{}, "flags": map[string]any{}}},
	})
	if err := c.Publish(ctx, prefix+"#/chat#", req).Err(); err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	var sockets []string
	for range 2 { // one response from each node
		msg, err := sub.ReceiveMessage(rctx)
		if err != nil {
			t.Fatalf("responses: %v", err)
		}
		var resp struct {
			Type int `msgpack:"type"`
			Data struct {
				RequestId string `msgpack:"requestId"`
				Sockets   []struct {
					Id    string   `msgpack:"id"`
					Rooms []string `msgpack:"rooms"`
				} `msgpack:"sockets"`
			} `msgpack:"data"`
		}
		if err := msgpack.Unmarshal([]byte(msg.Payload), &resp); err != nil {
			t.Fatal(err)
		}
		if resp.Type != 8 || resp.Data.RequestId != "r1" {
			t.Fatalf("response %+v", resp)
		}
		for _, s := range resp.Data.Sockets {
			sockets = append(sockets, s.Id+" "+strings.Join(s.Rooms, ","))
		}
	}
	if len(sockets) != 1 || !strings.Contains(sockets[0], "chat:lobby") {
		t.Fatalf("sockets %q, want the one client in chat:lobby", sockets)
	}
}

// Defect 4: the pub/sub adapter msgpack-encodes broadcasts as they are, so
// an application struct reached the other nodes' clients with Go field
// names ({"Text": ...}) instead of its JSON names ({"text": ...}).
func TestCrossNodeBroadcastKeepsJSONNames(t *testing.T) {
	a, b := twoNodes(t, "pubsub")
	ca, cb := dial(t, a, "/chat"), dial(t, b, "/chat")
	ca.call("join", map[string]any{"room": "r"})
	cb.call("join", map[string]any{"room": "r"})
	ca.call("message", map[string]any{"room": "r", "text": "hello"})
	if _, err := cb.tryEvent("message", withText("hello"), 2*time.Second); err != nil {
		t.Fatal(err)
	}
}

// Defect 5: the pub/sub adapter ignored broadcasts published on the
// namespace channel itself (to the whole namespace, or to several rooms):
// its receive loop skipped channels not longer than that one.
func TestNamespaceWideBroadcastReachesOtherNodes(t *testing.T) {
	a, b := twoNodes(t, "pubsub")
	cb := dial(t, b, "/chat")
	chat, _ := a.srv.Lookup("/chat")
	if err := chat.EmitRaw("", "everyone", map[string]any{"n": 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := cb.tryEvent("everyone", nil, 2*time.Second); err != nil {
		t.Fatal(err)
	}
}
