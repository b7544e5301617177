package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

var nan = math.NaN()

// epoch is the generator's clock: send times travel as nanoseconds since it
// (monotonic), so a latency is one subtraction in one process.
var epoch = time.Now()

func now() int64 { return int64(time.Since(epoch)) }

// metrics are one run's figures by name (see metricDocs).
type metrics map[string]float64

// connectAll dials n connections with bounded concurrency; it returns the
// ones that connected and the first error of those that did not.
func connectAll(ctx context.Context, n, parallel int, transport string, o dialOptions, fn func(i int) onPacket) ([]conn, int, error) {
	conns := make([]conn, n)
	var failed atomic.Int64
	var firstErr error
	var mu sync.Mutex
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i := range n {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := dial(ctx, transport, o, fn(i))
			if err != nil {
				failed.Add(1)
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
				return
			}
			conns[i] = c
		}()
	}
	wg.Wait()
	out := conns[:0]
	for _, c := range conns {
		if c != nil {
			out = append(out, c)
		}
	}
	return out, int(failed.Load()), firstErr
}

func closeAll(cs []conn) {
	for _, c := range cs {
		c.Close()
	}
}

func alive(cs []conn) int {
	n := 0
	for _, c := range cs {
		select {
		case <-c.Done():
		default:
			n++
		}
	}
	return n
}

// serverUsage samples a server process: RSS and CPU time (zero when the
// server runs in this process).
func serverUsage(s *server) (rss int64, cpu time.Duration) {
	if s.PID == 0 {
		return 0, 0
	}
	rss, cpu, _ = procStats(s.PID)
	return rss, cpu
}

// ------------------------------------------------------------------- idle

// idleParams configure the idle-capacity scenario.
type idleParams struct {
	Conns    int
	Hold     time.Duration // after the last connect; ping cycles are answered meanwhile
	Parallel int
	Timeout  time.Duration
}

// runIdle connects Conns websockets to "/", holds them idle (answering
// pings) and reports memory per connection.
func runIdle(ctx context.Context, s *server, p idleParams) (metrics, error) {
	time.Sleep(300 * time.Millisecond) // let the server settle
	rss0, _ := serverUsage(s)
	g0 := goroutines(s)
	o := dialOptions{Addr: s.Addr, Path: "/socket.io/", Namespace: "/", Timeout: p.Timeout}
	t0 := time.Now()
	cs, failed, err := connectAll(ctx, p.Conns, p.Parallel, "websocket", o, func(int) onPacket { return func([]byte) {} })
	defer closeAll(cs)
	connectTime := time.Since(t0)
	if len(cs) == 0 {
		return nil, fmt.Errorf("no connection succeeded: %v", err)
	}
	if err != nil {
		logf("  %d of %d connects failed, first: %v", failed, p.Conns, err)
	}
	select {
	case <-time.After(p.Hold):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	rss1, _ := serverUsage(s)
	g1 := goroutines(s)
	held := alive(cs)
	m := metrics{
		"conns":           float64(len(cs)),
		"connect_failed":  float64(failed),
		"dropped":         float64(len(cs) - held),
		"connects_per_s":  float64(len(cs)) / connectTime.Seconds(),
		"goroutines_conn": (g1 - g0) / float64(held),
	}
	if s.PID != 0 {
		m["rss_mib"] = float64(rss1) / (1 << 20)
		m["kib_per_conn"] = float64(rss1-rss0) / 1024 / float64(held)
	}
	return m, nil
}

// ------------------------------------------------------------------- echo

// echoParams configure the echo scenario.
type echoParams struct {
	Transport string
	Clients   int
	Warmup    time.Duration
	Duration  time.Duration
	Timeout   time.Duration
	Payload   string // JSON array body after the event name, e.g. `,"hello"]`
}

type echoClient struct {
	c      conn
	id     atomic.Int64
	sentAt atomic.Int64
	kick   chan struct{} // polling: sends happen off the GET loop
}

// runEcho has Clients clients each keep one `echo` with an ack in flight
// (a closed loop: the ack triggers the next emit) and reports acks per
// second and ack latency over Duration after Warmup.
func runEcho(ctx context.Context, s *server, p echoParams) (metrics, error) {
	var (
		measuring atomic.Bool
		stopped   atomic.Bool
		acks      atomic.Int64
		errs      atomic.Int64
		hist      = &Hist{}
	)
	body := `["echo"` + p.Payload
	clients := make([]*echoClient, p.Clients)
	send := func(c *echoClient) {
		if stopped.Load() {
			return
		}
		c.sentAt.Store(now())
		if err := c.c.Emit(int(c.id.Add(1)), body); err != nil {
			errs.Add(1)
		}
	}
	o := dialOptions{Addr: s.Addr, Path: "/socket.io/", Namespace: "/", Timeout: p.Timeout}
	cs, failed, err := connectAll(ctx, p.Clients, 50, p.Transport, o, func(i int) onPacket {
		clients[i] = &echoClient{}
		c := clients[i]
		return func(pkt []byte) {
			if _, ok := ackID(pkt); !ok {
				return
			}
			if measuring.Load() {
				hist.Record(time.Duration(now() - c.sentAt.Load()))
				acks.Add(1)
			}
			if c.kick != nil {
				select {
				case c.kick <- struct{}{}:
				default:
				}
				return
			}
			send(c)
		}
	})
	defer closeAll(cs)
	if failed > 0 {
		return nil, fmt.Errorf("%d of %d clients failed to connect: %v", failed, p.Clients, err)
	}
	// connectAll compacts; with no failures the order is kept.
	var wg sync.WaitGroup
	for i, c := range clients {
		c.c = cs[i]
		if p.Transport == "polling" {
			c.kick = make(chan struct{}, 1)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-c.kick:
						send(c)
					case <-c.c.Done():
						return
					}
				}
			}()
		}
	}
	for _, c := range clients {
		send(c)
	}
	time.Sleep(p.Warmup)
	_, cpu0 := serverUsage(s)
	t0 := time.Now()
	measuring.Store(true)
	time.Sleep(p.Duration)
	measuring.Store(false)
	window := time.Since(t0)
	_, cpu1 := serverUsage(s)
	stopped.Store(true)
	held := alive(cs)
	closeAll(cs)
	wg.Wait()
	n := acks.Load()
	if n == 0 {
		return nil, errors.New("no ack arrived")
	}
	m := metrics{
		"acks_per_s":  float64(n) / window.Seconds(),
		"p50_ms":      hist.Quantile(0.50),
		"p99_ms":      hist.Quantile(0.99),
		"dropped":     float64(p.Clients - held),
		"emit_errors": float64(errs.Load()),
	}
	if s.PID != 0 {
		m["cpu_us_per_ack"] = float64(cpu1-cpu0) / float64(time.Microsecond) / float64(n)
	}
	return m, nil
}

// -------------------------------------------------------------- broadcast

// broadcastParams configure the broadcast ramp.
type broadcastParams struct {
	Receivers int
	Rates     []int // messages per second, in order
	Step      time.Duration
	Drain     time.Duration // longest wait after a step's last send
	Timeout   time.Duration
	// MaxLoss and MaxP99 end the ramp after the first step beyond them.
	MaxLoss float64
	MaxP99  time.Duration
	// OnRamp, when set, runs just before the first step and after the last.
	OnRamp func(start bool)
}

// Step is one rate of the broadcast ramp.
type Step struct {
	Rate        int     `json:"rate"`
	SendRate    float64 `json:"send_rate"` // achieved
	Sent        int     `json:"sent"`
	Expected    int64   `json:"expected"`
	Received    int64   `json:"received"`
	Loss        float64 `json:"loss"`
	P50         float64 `json:"p50_ms"`
	P99         float64 `json:"p99_ms"`
	Max         float64 `json:"max_ms"`
	CPUPerDeliv float64 `json:"cpu_us_per_delivery,omitempty"`
	Clean       bool    `json:"clean"`
}

type stepStat struct {
	received atomic.Int64
	hist     Hist
}

var textMarker = []byte(`"text":"b`)

// parseText reads `b<step>.<seq>.<nanos>` after the marker.
func parseText(p []byte) (step int, sent int64, ok bool) {
	i := bytes.Index(p, textMarker)
	if i < 0 {
		return 0, 0, false
	}
	p = p[i+len(textMarker):]
	var f [3]int64
	k := 0
	for _, ch := range p {
		switch {
		case ch >= '0' && ch <= '9':
			f[k] = f[k]*10 + int64(ch-'0')
		case ch == '.' && k < 2:
			k++
		case ch == '"' && k == 2:
			return int(f[0]), f[2], true
		default:
			return 0, 0, false
		}
	}
	return 0, 0, false
}

// runBroadcast joins Receivers websockets and one sender to a /chat room,
// then ramps the sender's `message` rate; every receiver timestamps what
// arrives (the send time travels in the text).
func runBroadcast(ctx context.Context, s *server, p broadcastParams) (metrics, []Step, error) {
	steps := make([]*stepStat, len(p.Rates)+1) // 0: the sync message
	for i := range steps {
		steps[i] = &stepStat{}
	}
	const room = `"bench"`
	joinBody := `["join",{"room":` + room + `}]`
	o := dialOptions{Addr: s.Addr, Path: "/socket.io/", Namespace: "/chat", Timeout: p.Timeout}
	joined := make([]chan struct{}, p.Receivers+1)
	for i := range joined {
		joined[i] = make(chan struct{}, 1)
	}
	var acks atomic.Int64
	handler := func(i int) onPacket {
		return func(pkt []byte) {
			switch pkt[0] {
			case '2':
				if i == p.Receivers { // the sender only counts acks
					return
				}
				if st, sent, ok := parseText(pkt); ok && st < len(steps) {
					steps[st].hist.Record(time.Duration(now() - sent))
					steps[st].received.Add(1)
				}
			case '3':
				if id, ok := ackID(pkt); ok {
					if id == 1 {
						select {
						case joined[i] <- struct{}{}:
						default:
						}
					} else {
						acks.Add(1)
					}
				}
			}
		}
	}
	t0 := time.Now()
	cs, failed, err := connectAll(ctx, p.Receivers+1, 100, "websocket", o, handler)
	defer closeAll(cs)
	if failed > 0 {
		return nil, nil, fmt.Errorf("%d of %d connects failed: %v", failed, p.Receivers+1, err)
	}
	// Join in parallel batches; each join is broadcast to the room as
	// presence, so this costs the server O(n^2) deliveries (not measured).
	sem := make(chan struct{}, 50)
	var wg sync.WaitGroup
	var (
		joinMu  sync.Mutex
		joinErr error
	)
	fail := func(err error) {
		joinMu.Lock()
		defer joinMu.Unlock()
		if joinErr == nil {
			joinErr = err
		}
	}
	for i, c := range cs {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := c.Emit(1, joinBody); err != nil {
				fail(err)
				return
			}
			select {
			case <-joined[i]:
			case <-c.Done():
				why := "closed"
				if w, ok := c.(*wsConn); ok && w.err != nil {
					why = w.err.Error()
				}
				fail(errors.New("a connection closed before its join was acknowledged: " + why))
			case <-time.After(3 * p.Timeout):
				fail(errors.New("join not acknowledged"))
			case <-ctx.Done():
			}
		}()
	}
	wg.Wait()
	if joinErr != nil {
		return nil, nil, fmt.Errorf("joining: %v (%d of %d connections alive)", joinErr, alive(cs), len(cs))
	}
	sender := cs[p.Receivers]
	id := 1
	emit := func(step, seq int) error {
		id++
		return sender.Emit(id, `["message",{"room":`+room+`,"text":"b`+strconv.Itoa(step)+"."+strconv.Itoa(seq)+"."+strconv.FormatInt(now(), 10)+`"}]`)
	}
	// Sync: once one message reached everyone, the presence backlog of the
	// joins has been delivered too (one order per room).
	if err := emit(0, 0); err != nil {
		return nil, nil, err
	}
	for deadline := time.Now().Add(3 * p.Timeout); steps[0].received.Load() < int64(p.Receivers); {
		if n := alive(cs); n < len(cs) || time.Now().After(deadline) || ctx.Err() != nil {
			return nil, nil, fmt.Errorf("set-up: the sync message reached %d of %d receivers; %d of %d connections alive",
				steps[0].received.Load(), p.Receivers, n, len(cs))
		}
		time.Sleep(10 * time.Millisecond)
	}
	setup := time.Since(t0)

	if p.OnRamp != nil {
		p.OnRamp(true)
		defer p.OnRamp(false)
	}
	var out []Step
	best := 0.0
	for k, rate := range p.Rates {
		st := steps[k+1]
		_, cpu0 := serverUsage(s)
		n := int(math.Round(float64(rate) * p.Step.Seconds()))
		interval := time.Second / time.Duration(rate)
		start := time.Now()
		sent := 0
		for seq := range n {
			if d := time.Until(start.Add(time.Duration(seq) * interval)); d > 0 {
				time.Sleep(d)
			}
			if err := emit(k+1, seq); err != nil {
				return nil, nil, fmt.Errorf("sending: %w", err)
			}
			sent++
		}
		sendTime := time.Since(start) + interval // n intervals when on schedule
		expected := int64(sent) * int64(p.Receivers)
		waitCount(ctx, &st.received, expected, p.Drain)
		_, cpu1 := serverUsage(s)
		got := st.received.Load()
		r := Step{
			Rate: rate, Sent: sent, Expected: expected, Received: got,
			SendRate: float64(sent) / sendTime.Seconds(),
			Loss:     1 - float64(got)/float64(expected),
			P50:      st.hist.Quantile(0.5), P99: st.hist.Quantile(0.99), Max: st.hist.Quantile(1),
		}
		if got > 0 && s.PID != 0 {
			r.CPUPerDeliv = float64(cpu1-cpu0) / float64(time.Microsecond) / float64(got)
		}
		r.Clean = r.Loss <= p.MaxLoss && r.P99 <= float64(p.MaxP99)/float64(time.Millisecond) &&
			r.SendRate >= 0.9*float64(rate)
		out = append(out, r)
		logf("    %4d msg/s -> %d receivers: sent %d (%.0f/s), loss %.2f%%, p50 %.1f ms, p99 %.1f ms, cpu %.1f us/delivery",
			rate, p.Receivers, sent, r.SendRate, 100*r.Loss, r.P50, r.P99, r.CPUPerDeliv)
		if !r.Clean {
			break
		}
		best = float64(rate)
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
	}
	m := metrics{
		"best_rate":  best,
		"setup_s":    setup.Seconds(),
		"dropped":    float64(len(cs) - alive(cs)),
		"sender_ack": float64(acks.Load()),
	}
	for _, r := range out {
		if r.Rate == 10 && r.CPUPerDeliv > 0 {
			m["cpu_us_per_delivery_10"] = r.CPUPerDeliv
		}
		if r.Rate == 25 || r.Rate == 100 {
			m["p50_ms_"+strconv.Itoa(r.Rate)] = r.P50
			m["p99_ms_"+strconv.Itoa(r.Rate)] = r.P99
		}
	}
	return m, out, nil
}

// waitCount waits until c reaches want or d passes; it reports success.
func waitCount(ctx context.Context, c *atomic.Int64, want int64, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for c.Load() < want {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}

// signalProfile starts (true) or stops (false) the CPU profile of a -serve
// server.
func signalProfile(s *server, start bool) {
	sig := syscall.SIGUSR2
	if start {
		sig = syscall.SIGUSR1
	}
	_ = syscall.Kill(s.PID, sig)
}
