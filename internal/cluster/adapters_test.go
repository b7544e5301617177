package cluster_test

// The adapters (AdapterFor) under bare internal/socketio servers, between
// them and with a Node.js socket.io node on Node's own adapters.

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sockside/sockside/internal/cluster"
	"github.com/sockside/sockside/internal/engine"
	"github.com/sockside/sockside/internal/siotest"
	"github.com/sockside/sockside/internal/socketio"
)

// coreNode is an internal/socketio server on the cluster: "/chat" with "join" (acked
// once joined) and a record of the sockets that connected recovered.
type coreNode struct {
	srv       *socketio.Server
	chat      *socketio.Namespace
	url       string
	recovered chan string
}

func startCoreNode(t *testing.T, mode, prefix string, recovery time.Duration) *coreNode {
	t.Helper()
	cfg := testConfig(t, sharedRedis, mode, prefix)
	cl, err := cluster.New(cfg, cluster.Options{RequestTimeout: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ecfg := engine.Default()
	ecfg.Logger = slog.New(slog.DiscardHandler)
	srv, err := socketio.New(socketio.Config{
		Engine:   ecfg,
		Limits:   socketio.Limits{MaxDepth: 32, MaxEventName: 128, MaxAttachments: 4},
		Recovery: socketio.Recovery{MaxDisconnection: recovery, SkipAdmit: true},
		Adapter:  cl.AdapterFor(recovery),
	})
	if err != nil {
		t.Fatal(err)
	}
	n := &coreNode{srv: srv, chat: srv.Of("/chat"), recovered: make(chan string, 4)}
	n.chat.SetHooks(socketio.Hooks{
		Connected: func(s *socketio.Socket) {
			if s.Recovered() {
				n.recovered <- s.ID()
			}
		},
		Event: func(s *socketio.Socket, p *socketio.Packet, ack func(...any) error) {
			args, err := p.Args()
			if err != nil || p.Event != "join" || len(args) == 0 || ack == nil {
				return
			}
			room, _ := args[0].(string)
			s.Join(room)
			_ = ack()
		},
	})
	cl.Start()
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", srv)
	ts := httptest.NewServer(mux)
	n.url = ts.URL
	t.Cleanup(func() {
		ts.CloseClientConnections()
		srv.Close()
		_ = cl.Close()
		ts.Close()
	})
	return n
}

// nodesChannel is what each adapter counts its nodes on.
func nodesChannel(mode, prefix string) string {
	if mode == cluster.ModePubSub {
		return prefix + "-request#/chat#"
	}
	return prefix + "#/chat#"
}

// warmUp broadcasts from emit until c hears it: the nodes' subscriptions
// and stream reads are in place.
func warmUp(t *testing.T, c *siotest.Client, emit func()) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		emit()
		if c.NextWithin("warm", nil, 200*time.Millisecond) == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the nodes never heard each other")
		}
	}
}

func fetchIDs(t *testing.T, n *socketio.Namespace, room string) []string {
	t.Helper()
	list, err := n.FetchSockets(context.Background(), socketio.Broadcast{Rooms: []string{room}})
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(list))
	for i, s := range list {
		ids[i] = s.ID
	}
	slices.Sort(ids)
	return ids
}

func sorted(ids ...string) []string { slices.Sort(ids); return ids }

func TestAdaptersAcrossNodes(t *testing.T) {
	needRedis(t)
	for _, mode := range []string{cluster.ModePubSub, cluster.ModeStreams} {
		t.Run(mode, func(t *testing.T) {
			prefix := testPrefix(t)
			a := startCoreNode(t, mode, prefix, 0)
			b := startCoreNode(t, mode, prefix, 0)
			waitSubscribers(t, "127.0.0.1:6379", nodesChannel(mode, prefix), 2)
			a1 := siotest.Connect(t, a.url, "/chat", nil)
			b1 := siotest.Connect(t, b.url, "/chat", nil)
			b2 := siotest.Connect(t, b.url, "/chat", nil)
			warmUp(t, b2, func() { _ = a.chat.Emit(socketio.Broadcast{}, "warm") })
			for _, c := range []*siotest.Client{a1, b1} {
				if err := c.Call(nil, "join", "room"); err != nil {
					t.Fatal(err)
				}
			}
			// A struct crosses with its JSON names; the room's other
			// members hear it, the one outside does not.
			type note struct {
				Text string `json:"text"`
			}
			if err := a.chat.Emit(socketio.Broadcast{Rooms: []string{"room"}}, "note", note{"hi"}); err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			if err := b1.Next("note", &got); err != nil || got["text"] != "hi" {
				t.Fatalf("b1: %v %v", got, err)
			}
			if err := a1.Next("note", nil); err != nil {
				t.Fatal(err)
			}
			if b2.NextWithin("note", nil, 200*time.Millisecond) == nil {
				t.Error("b2, outside the room, heard it")
			}
			// Everyone but the room, from the other node; binary stays binary.
			if err := b.chat.Emit(socketio.Broadcast{Except: []string{"room"}}, "blob", []byte{0, 1, 255}); err != nil {
				t.Fatal(err)
			}
			if _, err := b2.NextPacket(`51-["blob",{"_placeholder":true,"num":0}]`); err != nil {
				t.Fatal(err)
			}
			if a1.NextWithin("blob", nil, 200*time.Millisecond) == nil {
				t.Error("a1, in the excluded room, got it")
			}
			// Fetches see every node's sockets.
			if got, want := fetchIDs(t, a.chat, "room"), sorted(a1.SID, b1.SID); !slices.Equal(got, want) {
				t.Errorf("fetch from a: %v, want %v", got, want)
			}
			// Joins, leaves and disconnects reach the other node's sockets.
			if err := a.chat.AddSockets(socketio.Broadcast{Rooms: []string{b2.SID}}, []string{"vip"}); err != nil {
				t.Fatal(err)
			}
			eventually(t, 5*time.Second, func() error {
				if s, ok := b.chat.Socket(b2.SID); !ok || !s.In("vip") {
					return errNotYet
				}
				return nil
			})
			if err := a.chat.DelSockets(socketio.Broadcast{Rooms: []string{"vip"}}, []string{"vip"}); err != nil {
				t.Fatal(err)
			}
			eventually(t, 5*time.Second, func() error {
				if s, ok := b.chat.Socket(b2.SID); !ok || s.In("vip") {
					return errNotYet
				}
				return nil
			})
			if err := a.chat.DisconnectSockets(socketio.Broadcast{Rooms: []string{b2.SID}}, false); err != nil {
				t.Fatal(err)
			}
			if _, err := b2.NextPacket("1"); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestAdaptersWithNodePeer(t *testing.T) {
	needRedis(t)
	for _, mode := range []string{cluster.ModePubSub, cluster.ModeStreams} {
		t.Run(mode, func(t *testing.T) {
			prefix := testPrefix(t)
			peer := startNodePeer(t, mode, prefix)
			g := startCoreNode(t, mode, prefix, 0)
			waitSubscribers(t, "127.0.0.1:6379", nodesChannel(mode, prefix), 2)
			gc := siotest.Connect(t, g.url, "/chat", nil)
			nc := siotest.Connect(t, peer.url, "/chat", nil)
			warmUp(t, nc, func() { _ = g.chat.Emit(socketio.Broadcast{}, "warm") })
			if err := gc.Call(nil, "join", "room"); err != nil {
				t.Fatal(err)
			}
			peer.send(map[string]any{"op": "join", "id": nc.SID, "room": "room"})
			peer.expect("join")

			if err := g.chat.Emit(socketio.Broadcast{Rooms: []string{"room"}}, "from-go", map[string]any{"n": 1}); err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			if err := nc.Next("from-go", &got); err != nil || got["n"] != 1.0 {
				t.Fatalf("Node's client: %v %v", got, err)
			}
			peer.send(map[string]any{"op": "broadcast", "room": "room", "event": "from-node", "args": []any{map[string]any{"nested": []any{1, 2}}}})
			peer.expect("broadcast")
			if err := gc.Next("from-node", &got); err != nil || len(got["nested"].([]any)) != 2 {
				t.Fatalf("Go's client: %v %v", got, err)
			}
			peer.send(map[string]any{"op": "binary", "room": "room", "event": "blob"})
			peer.expect("binary")
			if _, err := gc.NextPacket(`51-["blob",{"_placeholder":true,"num":0}]`); err != nil {
				t.Fatal(err)
			}
			// Fetches both ways.
			peer.send(map[string]any{"op": "fetch", "room": "room"})
			ids, _ := json.Marshal(peer.expect("fetch")["ids"])
			if want, _ := json.Marshal(sorted(gc.SID, nc.SID)); string(ids) != string(want) {
				t.Errorf("Node's fetch: %s, want %s", ids, want)
			}
			if got, want := fetchIDs(t, g.chat, "room"), sorted(gc.SID, nc.SID); !slices.Equal(got, want) {
				t.Errorf("Go's fetch: %v, want %v", got, want)
			}
			// Node joins a Go socket to a room.
			peer.send(map[string]any{"op": "join", "id": gc.SID, "room": "moved"})
			peer.expect("join")
			eventually(t, 5*time.Second, func() error {
				if s, ok := g.chat.Socket(gc.SID); !ok || !s.In("moved") {
					return errNotYet
				}
				return nil
			})
		})
	}
}

func TestRecoveryAcrossNodes(t *testing.T) {
	needRedis(t)
	prefix := testPrefix(t)
	a := startCoreNode(t, cluster.ModeStreams, prefix, time.Minute)
	b := startCoreNode(t, cluster.ModeStreams, prefix, time.Minute)
	waitSubscribers(t, "127.0.0.1:6379", nodesChannel(cluster.ModeStreams, prefix), 2)
	c := siotest.Connect(t, a.url, "/chat", nil)
	if c.PID == "" {
		t.Fatal("no pid with recovery on")
	}
	watcher := siotest.Connect(t, b.url, "/chat", nil)
	warmUp(t, watcher, func() { _ = a.chat.Emit(socketio.Broadcast{}, "warm") })
	if err := c.Call(nil, "join", "room"); err != nil {
		t.Fatal(err)
	}
	if err := a.chat.Emit(socketio.Broadcast{Rooms: []string{"room"}}, "news", "seen"); err != nil {
		t.Fatal(err)
	}
	args, err := c.NextArgs("news")
	if err != nil {
		t.Fatal(err)
	}
	var offset string
	if err := json.Unmarshal(args[len(args)-1], &offset); err != nil || !strings.Contains(offset, "-") {
		t.Fatalf("no stream offset in %s", args)
	}
	_ = c.Close()
	eventually(t, 5*time.Second, func() error {
		if _, ok := a.chat.Socket(c.SID); ok {
			return errNotYet
		}
		return nil
	})
	// Missed while away, sent from the node it comes back to.
	if err := b.chat.Emit(socketio.Broadcast{Rooms: []string{"room"}}, "news", "missed"); err != nil {
		t.Fatal(err)
	}
	back, err := siotest.Dial(b.url, "/chat", map[string]any{"pid": c.PID, "offset": offset})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = back.Close() })
	if back.SID != c.SID {
		t.Fatalf("came back as %s, was %s", back.SID, c.SID)
	}
	var missed string
	if err := back.Next("news", &missed); err != nil || missed != "missed" {
		t.Fatalf("missed broadcast: %q %v", missed, err)
	}
	select {
	case id := <-b.recovered:
		if id != c.SID {
			t.Errorf("recovered %s", id)
		}
	case <-time.After(siotest.Timeout):
		t.Fatal("b saw no recovered socket")
	}
	if s, ok := b.chat.Socket(c.SID); !ok || !s.In("room") {
		t.Error("rooms not restored")
	}
}

var errNotYet = errors.New("not yet")

// expect returns the peer's next line, which must be op's answer, not an error.
func (p *nodePeer) expect(op string) map[string]any {
	p.t.Helper()
	v := p.next(10 * time.Second)
	if v["op"] != op || v["error"] != nil {
		p.t.Fatalf("node peer, %s: %v", op, v)
	}
	return v
}
