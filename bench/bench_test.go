package main

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/sockside/sockside/config"
)

// TestQuickSmoke runs a tiny version of every scenario against sockside's
// app in this process and writes the reports, to prove the harness works.
// It asserts that work happened, never how fast.
func TestQuickSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server and holds connections")
	}
	cfg, err := config.Load(func(k string) (string, bool) {
		v, ok := map[string]string{
			"SOCKET_HOST": "127.0.0.1", "SOCKET_PORT": "0",
			"SOCKET_RATE_LIMIT": "0", "SOCKET_RECOVERY_WINDOW": "0", "LOG_LEVEL": "error",
		}[k]
		return v, ok
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	p := defaultPlan(true, false)
	p.Servers = []string{kindSockside}
	p.IdleSizes = []int{50}
	p.IdleHold = 100 * time.Millisecond
	p.EchoClients, p.PollClients = 5, 3
	p.EchoWarmup, p.EchoDuration = 100*time.Millisecond, 400*time.Millisecond
	p.Receivers, p.Rates = 20, []int{20, 40}
	p.Step, p.Drain = 500*time.Millisecond, 5*time.Second
	// The slow scenario's plumbing only (a stuck receiver blocks, is
	// counted apart and released): a 1 s step is too short for it to be
	// cut off.
	p.Scenarios = append(p.Scenarios, "slow")
	p.SlowRate, p.SlowStep = 40, time.Second

	res := &Results{Command: "go test ./bench -run TestQuickSmoke", Machine: machineInfo(), Plan: p}
	for _, sc := range []struct{ scenario, base string }{
		{"idle/50", "idle"}, {"echo", "echo"}, {"broadcast", "broadcast"}, {"polling", "polling"},
		{slowBase, "slow"}, {slowStuck, "slow"},
	} {
		s, err := startInProcess(cfg)
		if err != nil {
			t.Fatal(err)
		}
		m, steps, err := runScenario(ctx, s, p, sc.scenario, sc.base)
		s.Stop()
		if err != nil {
			t.Fatalf("%s: %v", sc.scenario, err)
		}
		t.Logf("%s: %s", sc.scenario, formatMetrics(m))
		res.Runs = append(res.Runs, Run{Scenario: sc.scenario, Server: kindSockside, Rep: 1, Metrics: finite(m), Steps: steps})
		switch sc.base {
		case "idle":
			if m["conns"] != 50 || m["dropped"] != 0 {
				t.Errorf("idle: %v, want 50 connections held", m)
			}
		case "echo", "polling":
			if m["acks_per_s"] <= 0 || m["p50_ms"] <= 0 || m["dropped"] != 0 || m["emit_errors"] != 0 {
				t.Errorf("%s: %v, want acks and no errors", sc.base, m)
			}
		case "broadcast":
			if len(steps) == 0 {
				t.Fatal("broadcast: no step ran")
			}
			for _, st := range steps {
				if st.Received == 0 || st.Sent == 0 || st.P50 <= 0 {
					t.Errorf("broadcast step %+v: nothing measured", st)
				}
			}
			if m["missing"] != 0 {
				t.Errorf("broadcast: %v deliveries never arrived (%v)", m["missing"], steps)
			}
		case "slow":
			// The stuck receiver's deliveries are not counted: nothing is
			// missing from the others'.
			if m["p99_ms"] <= 0 || m["loss_pct"] != 0 || m["dropped"] != 0 {
				t.Errorf("%s: %v, want every delivery measured", sc.scenario, m)
			}
			if _, ok := m["slow_consumer_drops"]; !ok {
				t.Errorf("%s: %v, want slow_consumer_drops scraped", sc.scenario, m)
			}
			_, hasCut := m["stuck_cut"]
			if stuck := sc.scenario == slowStuck; hasCut != stuck || stuck && m["stuck_backlog_mib"] <= 0 {
				t.Errorf("%s: %v, want the stuck receiver's figures only with one", sc.scenario, m)
			}
		}
	}
	pairSlow(res.Runs)
	if r := res.Runs[len(res.Runs)-1]; r.Metrics["p99_ratio"] <= 0 {
		t.Errorf("%s: %v, want p99_ratio", r.Scenario, r.Metrics)
	}
	// Every stuck handler was released and the watcher stopped: nothing of
	// runBroadcast outlives it.
	for deadline := time.Now().Add(5 * time.Second); ; {
		buf := make([]byte, 1<<20)
		stacks := string(buf[:runtime.Stack(buf, true)])
		if !strings.Contains(stacks, "main.runBroadcast") && !strings.Contains(stacks, "main.watch") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("goroutines of runBroadcast left:\n%s", stacks)
		}
		time.Sleep(50 * time.Millisecond)
	}

	dir := t.TempDir()
	if err := res.write(dir); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"results.md", "results.json"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil || len(b) == 0 {
			t.Errorf("%s: %v (%d bytes)", f, err, len(b))
		}
	}
	if md, _ := os.ReadFile(filepath.Join(dir, "results.md")); !bytes.Contains(md, []byte("| slow consumer: p99 with ÷ without")) ||
		!bytes.Contains(md, []byte("| slow consumer: loss without / with the stuck receiver (%) | 0 / 0 |")) {
		t.Errorf("results.md lacks the slow consumer rows:\n%s", md)
	}
	b, err := os.ReadFile(filepath.Join(dir, "broadcast-latency.png"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(bytes.NewReader(b)); err != nil {
		t.Errorf("chart: %v", err)
	}
}

func TestParsers(t *testing.T) {
	if id, ok := ackID([]byte(`3/chat,17[{"ok":true}]`)); !ok || id != 17 {
		t.Errorf("ackID with namespace = %d, %v", id, ok)
	}
	if id, ok := ackID([]byte(`342["x"]`)); !ok || id != 42 {
		t.Errorf("ackID = %d, %v", id, ok)
	}
	if _, ok := ackID([]byte(`2["message"]`)); ok {
		t.Error("an event parsed as an ack")
	}
	st, sent, ok := parseText([]byte(`2/chat,["message",{"id":"x-1","room":"bench","from":"a","text":"b3.41.123456789","ts":1}]`))
	if !ok || st != 3 || sent != 123456789 {
		t.Errorf("parseText = %d, %d, %v", st, sent, ok)
	}
	if _, _, ok := parseText([]byte(`2/chat,["presence",{"room":"bench"}]`)); ok {
		t.Error("presence parsed as a message")
	}
	if got := string(emitPacket(nil, "/chat,", 5, `["join",{}]`)); got != `42/chat,5["join",{}]` {
		t.Errorf("emitPacket = %s", got)
	}
	var h Hist
	for i := 1; i <= 100; i++ {
		h.Record(time.Duration(i) * time.Millisecond)
	}
	if q := h.Quantile(0.5); q < 49 || q > 51.5 {
		t.Errorf("p50 = %v ms, want about 50", q)
	}
	if q := h.Quantile(0.99); q < 98 || q > 100.5 {
		t.Errorf("p99 = %v ms, want about 99", q)
	}
}
