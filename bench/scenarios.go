package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
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
	// OnHeld, when set, runs once every connection is held, before the
	// figures are taken.
	OnHeld func() error
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
	if p.OnHeld != nil {
		if err := p.OnHeld(); err != nil {
			return nil, err
		}
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
		firstErr  atomic.Value // the first emit error, for the log
		hist      = &Hist{}
	)
	body := `["echo"` + p.Payload
	clients := make([]*echoClient, p.Clients)
	send := func(c *echoClient) {
		if stopped.Load() {
			return
		}
		c.sentAt.Store(now())
		// An emit that fails once the run is over met our own teardown
		// (closing a polling client ends its session on the server).
		if err := c.c.Emit(int(c.id.Add(1)), body); err != nil && !stopped.Load() {
			if errs.Add(1) == 1 {
				firstErr.Store(err)
			}
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
	if err, _ := firstErr.Load().(error); err != nil {
		logf("  %d emits failed, the first: %v", errs.Load(), err)
	}
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
	// Stuck receivers connect and join the room like the others, then stop
	// reading at the first message (their handler blocks until the ramp is
	// over), so that their TCP buffers and then the server's queue for
	// them fill, as with a peer that hangs without closing. What they get
	// is not counted.
	Stuck int
	// TextSize pads each message's text to this many bytes (0: no padding,
	// the text is the bare timestamp), so that a stuck receiver's backlog
	// grows fast.
	TextSize int
	// Watch samples the server from the first step to the end of the last
	// one's drain: its RSS growth and, on sockside, the connections it cut
	// as slow consumers.
	Watch bool
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
	// Late arrived after the step's drain wait (counted as loss in Loss);
	// Missing had still not arrived once the ramp was over and a second
	// wait passed: lost for good.
	Late    int64 `json:"late"`
	Missing int64 `json:"missing"`
}

type stepStat struct {
	received atomic.Int64
	hist     Hist
}

var textMarker = []byte(`"text":"b`)

// parseText reads `b<step>.<seq>.<nanos>` after the marker, ended by the
// text's closing quote or by the space before a padding.
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
		case (ch == '"' || ch == ' ') && k == 2:
			return int(f[0]), f[2], true
		default:
			return 0, 0, false
		}
	}
	return 0, 0, false
}

// runBroadcast joins Receivers websockets, one sender and Stuck receivers
// that stop reading to a /chat room, then ramps the sender's `message`
// rate; every (reading) receiver timestamps what arrives (the send time
// travels in the text).
func runBroadcast(ctx context.Context, s *server, p broadcastParams) (metrics, []Step, error) {
	steps := make([]*stepStat, len(p.Rates)+1) // 0: the sync message
	for i := range steps {
		steps[i] = &stepStat{}
	}
	const room = `"bench"`
	joinBody := `["join",{"room":` + room + `}]`
	o := dialOptions{Addr: s.Addr, Path: "/socket.io/", Namespace: "/chat", Timeout: p.Timeout}
	// Connections 0..Receivers-1 receive, Receivers sends, the rest are
	// the stuck receivers.
	total := p.Receivers + 1 + p.Stuck
	joined := make([]chan struct{}, total)
	for i := range joined {
		joined[i] = make(chan struct{}, 1)
	}
	// Closing release lets the stuck receivers' handlers return, and so
	// their read loops end; on every way out, before the connections close.
	release := make(chan struct{})
	var releaseOnce sync.Once
	releaseStuck := func() { releaseOnce.Do(func() { close(release) }) }
	var stuckFrame atomic.Int64 // the size of the message a stuck receiver stopped at
	var acks atomic.Int64
	handler := func(i int) onPacket {
		return func(pkt []byte) {
			switch pkt[0] {
			case '2':
				if i == p.Receivers { // the sender only counts acks
					return
				}
				if i > p.Receivers {
					// Messages are sent only once every join is
					// acknowledged, so this is after the join: the read
					// loop stops here, and the server has to hold
					// everything that follows.
					if _, _, ok := parseText(pkt); ok {
						stuckFrame.CompareAndSwap(0, int64(len(pkt)+1)) // + Engine.IO's '4'
						<-release
					}
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
	cs, failed, err := connectAll(ctx, total, 100, "websocket", o, handler)
	defer closeAll(cs)
	defer releaseStuck() // runs first
	if failed > 0 {
		return nil, nil, fmt.Errorf("%d of %d connects failed: %v", failed, total, err)
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
	// connectAll compacts; with no failures the order is kept.
	sender := cs[p.Receivers]
	counted, stuck := cs[:p.Receivers+1], cs[p.Receivers+1:]
	padding := ""
	if p.TextSize > 0 {
		padding = " " + strings.Repeat("x", p.TextSize)
	}
	id := 1
	emit := func(step, seq int) error {
		id++
		text := "b" + strconv.Itoa(step) + "." + strconv.Itoa(seq) + "." + strconv.FormatInt(now(), 10)
		if n := p.TextSize - len(text); n > 1 {
			text += padding[:n]
		}
		return sender.Emit(id, `["message",{"room":`+room+`,"text":"`+text+`"}]`)
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
	var w *watcher
	if p.Watch {
		w = watch(s)
		defer w.stop() // idempotent; stopped after the last drain below
	}
	var out []Step
	best := 0.0
	totalSent := 0
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
		totalSent += sent
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
	if w != nil {
		w.stop()
	}
	// A delivery missing at its step's check may only be late: the
	// receivers go on counting, so look again once the ramp is over.
	var missing int64
	for k := range out {
		st := steps[k+1]
		waitCount(ctx, &st.received, out[k].Expected, p.Drain)
		final := st.received.Load()
		out[k].Late, out[k].Missing = final-out[k].Received, out[k].Expected-final
		if out[k].Clean {
			missing += out[k].Missing
		}
	}
	m := metrics{
		"best_rate":  best,
		"setup_s":    setup.Seconds(),
		"dropped":    float64(len(counted) - alive(counted)),
		"sender_ack": float64(acks.Load()),
		// Deliveries of the clean steps that never arrived.
		"missing": float64(missing),
	}
	if w != nil {
		w.addTo(m, s)
	}
	if len(stuck) > 0 {
		// What the server was handed for the stuck receivers after they
		// stopped reading (all messages carry texts of one length).
		m["stuck_backlog_mib"] = float64(stuckFrame.Load()*int64(totalSent)) / (1 << 20)
		// Let them read again: one the server cut off ends once its
		// kernel buffers are read (the server's close follows the data);
		// one still connected does not end.
		releaseStuck()
		for deadline := time.Now().Add(stuckCloseWait); alive(stuck) > 0 && time.Now().Before(deadline) && ctx.Err() == nil; {
			time.Sleep(20 * time.Millisecond)
		}
		m["stuck_cut"] = float64(len(stuck) - alive(stuck))
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

// stuckCloseWait bounds the wait for a released stuck receiver to see the
// server's close: reading a few MB of kernel buffers on loopback takes
// milliseconds.
const stuckCloseWait = 3 * time.Second

// slowConsumerSample is sockside's count of websocket peers cut off past
// SOCKET_SEND_BUFFER.
const slowConsumerSample = `sockside_dropped_total{reason="slow_consumer"}`

// watcher samples a server while a broadcast ramp runs.
type watcher struct {
	s         *server
	t0        time.Time
	rss0      int64
	drops0    float64 // NaN: not scraped (Node, or the scrape failed)
	rssMax    atomic.Int64
	drops     atomic.Uint64 // math.Float64bits of the latest count
	cutAfter  atomic.Int64  // when the count first rose, since t0; -1: not seen
	done      chan struct{}
	exited    chan struct{}
	closeOnce sync.Once
}

// watchEvery is the sampling interval: fine enough to time a cut-off, and
// a /metrics scrape four times a second costs sockside next to nothing
// beside thousands of deliveries.
const watchEvery = 250 * time.Millisecond

func watch(s *server) *watcher {
	w := &watcher{s: s, drops0: slowConsumerDrops(s), done: make(chan struct{}), exited: make(chan struct{})}
	w.rss0, _ = serverUsage(s)
	w.rssMax.Store(w.rss0)
	w.drops.Store(math.Float64bits(w.drops0))
	w.cutAfter.Store(-1)
	w.t0 = time.Now()
	go func() {
		defer close(w.exited)
		t := time.NewTicker(watchEvery)
		defer t.Stop()
		for {
			select {
			case <-w.done:
				return
			case <-t.C:
			}
			w.sample()
		}
	}()
	return w
}

func (w *watcher) sample() {
	if rss, _ := serverUsage(w.s); rss > w.rssMax.Load() {
		w.rssMax.Store(rss)
	}
	if isNaN(w.drops0) {
		return
	}
	d := slowConsumerDrops(w.s)
	if isNaN(d) {
		return // a failed scrape under load; the next one may do
	}
	w.drops.Store(math.Float64bits(d))
	if d > w.drops0 && w.cutAfter.Load() < 0 {
		w.cutAfter.Store(int64(time.Since(w.t0)))
	}
}

// stop ends the sampling, with one last sample, and waits for it.
func (w *watcher) stop() {
	w.closeOnce.Do(func() {
		close(w.done)
		<-w.exited
		w.sample()
	})
}

// addTo adds the watch's figures: rss_growth_mib (the highest RSS over
// the one before), and on sockside slow_consumer_drops and cut_after_s
// (when the first was counted, since the first step began; to the
// sampling interval).
func (w *watcher) addTo(m metrics, s *server) {
	if s.PID != 0 {
		m["rss_growth_mib"] = float64(w.rssMax.Load()-w.rss0) / (1 << 20)
	}
	if isNaN(w.drops0) {
		return
	}
	m["slow_consumer_drops"] = math.Float64frombits(w.drops.Load()) - w.drops0
	if d := w.cutAfter.Load(); d >= 0 {
		m["cut_after_s"] = time.Duration(d).Seconds()
	}
}

// slowConsumerDrops is sockside's slow-consumer count (0 before the first),
// NaN for Node or when the scrape fails.
func slowConsumerDrops(s *server) float64 {
	v, _, err := scrapeMetric(s, slowConsumerSample)
	if err != nil {
		return nan
	}
	return v
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

// ------------------------------------------------------------------- slow

// The slow scenario's two phases: the broadcast without, then with, a
// stuck receiver; each is a run of its own on a fresh server.
const (
	slowBase  = "slow/base"
	slowStuck = "slow/stuck"
)

// addSlowStep adds the slow scenario's one step as p50_ms, p99_ms and
// loss_pct (latencies only when something arrived).
func addSlowStep(m metrics, steps []Step) {
	if len(steps) == 0 {
		return
	}
	st := steps[0]
	m["loss_pct"] = 100 * st.Loss
	if st.Received > 0 {
		m["p50_ms"], m["p99_ms"] = st.P50, st.P99
	}
}

// pairSlow gives every slow/stuck run p99_ratio, its p99 over that of the
// slow/base run of the same server and repetition: the pair ran close
// together, so the ratio is less exposed to a shared machine's drift than
// a ratio of medians would be.
func pairSlow(runs []Run) {
	for i := range runs {
		r := &runs[i]
		if r.Scenario != slowStuck || r.Error != "" {
			continue
		}
		for _, b := range runs {
			if b.Scenario != slowBase || b.Server != r.Server || b.Rep != r.Rep || b.Error != "" {
				continue
			}
			if base, ok := b.Metrics["p99_ms"]; ok && base > 0 {
				if p99, ok := r.Metrics["p99_ms"]; ok {
					r.Metrics["p99_ratio"] = p99 / base
				}
			}
		}
	}
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
