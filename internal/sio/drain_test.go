package sio

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/sockside/sockside/config"
	"github.com/sockside/sockside/internal/metrics"
)

func newTestServer(t *testing.T, mutate func(*config.Config)) (*Server, *httptest.Server) {
	t.Helper()
	cfg := config.Default()
	cfg.RecoveryWindow = 0
	if mutate != nil {
		mutate(&cfg)
	}
	srv, err := New(Options{Config: cfg, Metrics: metrics.New(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { ts.Close(); srv.Close() })
	return srv, ts
}

// dialSocket opens a websocket Engine.IO session and connects namespace "/".
func dialSocket(t *testing.T, ts *httptest.Server) *websocket.Conn {
	t.Helper()
	url := "ws" + strings.TrimPrefix(ts.URL, "http") + "/socket.io/?EIO=4&transport=websocket"
	conn, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	expectPrefix(t, conn, "0{")
	if err := conn.WriteMessage(websocket.TextMessage, []byte("40")); err != nil {
		t.Fatalf("connect namespace: %v", err)
	}
	expectPrefix(t, conn, "40{")
	return conn
}

// readText returns the next text frame that is not an Engine.IO ping.
func readText(t *testing.T, conn *websocket.Conn) (string, error) {
	t.Helper()
	for {
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, b, err := conn.ReadMessage()
		if err != nil {
			return "", err
		}
		if string(b) == "2" {
			_ = conn.WriteMessage(websocket.TextMessage, []byte("3"))
			continue
		}
		return string(b), nil
	}
}

func expectPrefix(t *testing.T, conn *websocket.Conn, prefix string) string {
	t.Helper()
	got, err := readText(t, conn)
	if err != nil {
		t.Fatalf("waiting for %q: %v", prefix, err)
	}
	if !strings.HasPrefix(got, prefix) {
		t.Fatalf("got %q, want prefix %q", got, prefix)
	}
	return got
}

func TestDrainFinishesInFlightAcksThenCloses(t *testing.T) {
	srv, ts := newTestServer(t, nil)
	started := make(chan struct{})
	release := make(chan struct{})
	HandleRaw(srv.Namespace("/"), "slow", func(_ *Client, args []any) ([]any, error) {
		close(started)
		<-release
		return args, nil
	})
	conn := dialSocket(t, ts)
	if err := conn.WriteMessage(websocket.TextMessage, []byte(`421["slow","x"]`)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-started:
	case <-time.After(5 * time.Second):
		t.Fatal("handler never started")
	}

	drained := make(chan error, 1)
	go func() { drained <- srv.Drain(context.Background()) }()

	// New handshakes are refused as soon as the drain begins.
	deadline := time.Now().Add(5 * time.Second)
	for !srv.Draining() {
		if time.Now().After(deadline) {
			t.Fatal("drain did not begin")
		}
		select {
		case err := <-drained:
			t.Fatalf("drain returned with a handler still running: %v", err)
		case <-time.After(time.Millisecond):
		}
	}
	res, err := http.Get(ts.URL + "/socket.io/?EIO=4&transport=polling")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	_ = res.Body.Close()
	if res.StatusCode != http.StatusForbidden || !strings.Contains(string(body), ErrDraining.Error()) {
		t.Fatalf("handshake during drain: %d %s, want 403 %q", res.StatusCode, body, ErrDraining)
	}
	select {
	case err := <-drained:
		t.Fatalf("drain returned before the in-flight handler finished: %v", err)
	default:
	}

	close(release)
	if got := expectPrefix(t, conn, "431"); got != `431["x"]` {
		t.Fatalf("ack = %q", got)
	}
	select {
	case err := <-drained:
		if err != nil {
			t.Fatalf("drain: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("drain did not finish")
	}
	if _, err := readText(t, conn); err == nil {
		t.Fatal("connection still open after drain")
	}
}

func TestDrainGivesUpAtDeadline(t *testing.T) {
	srv, ts := newTestServer(t, nil)
	started := make(chan struct{})
	release := make(chan struct{})
	defer close(release)
	HandleRaw(srv.Namespace("/"), "stuck", func(*Client, []any) ([]any, error) {
		close(started)
		<-release
		return nil, nil
	})
	conn := dialSocket(t, ts)
	if err := conn.WriteMessage(websocket.TextMessage, []byte(`42["stuck"]`)); err != nil {
		t.Fatal(err)
	}
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := srv.Drain(ctx)
	if err == nil || !strings.Contains(err.Error(), "1 handlers still running") {
		t.Fatalf("Drain = %v, want a deadline error naming the running handler", err)
	}
}
