package main

// The endurance scenario (issue 7): `go run ./bench -soak` holds N
// websockets against a fresh ./server for -duration, half on /chat in rooms
// sending messages with acks and half on /feed (FEED_INTERVAL=1s), churns
// -churn of them per minute (close, redial, rejoin), and every -sample
// records the server's RSS, goroutines, open fds, GC pause and the chat
// delivery latency into soak.csv and soak.png, then prints a verdict.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

var (
	soakMode     = flag.Bool("soak", false, "run the endurance scenario instead of the comparison (see -duration, -sockets, -sample)")
	soakDuration = flag.Duration("duration", 30*time.Minute, "-soak: how long to hold the sockets")
	soakSockets  = flag.Int("sockets", 10000, "-soak: websockets held (half /chat, half /feed)")
	soakSample   = flag.Duration("sample", time.Minute, "-soak: sampling interval")
	soakChurn    = flag.Float64("churn", 0.05, "-soak: fraction of the sockets closed and reconnected per minute")
	soakChatPart = flag.Float64("chat-share", 0.5, "-soak: fraction of the sockets on /chat (the rest on /feed)")
	soakRoomSize = flag.Int("room-size", 10, "-soak: /chat sockets per room")
	soakMsgEvery = flag.Duration("msg-every", 30*time.Second, "-soak: each /chat socket sends one message this often on average")
	soakOut      = flag.String("soak-out", "", "-soak: output directory (default bench/results/soak)")
)

// soakLossDeadline is how long a message has to reach every member.
const soakLossDeadline = 10 * time.Second

type soakSock struct {
	idx       int
	chat      bool
	room      string
	gen       atomic.Int64 // bumped on every reconnect
	joinedGen atomic.Int64 // gen whose join was acknowledged (0: not joined)
	busy      atomic.Bool  // being reconnected
	nextID    atomic.Int64 // ack ids; 1 is the join
	acks      sync.Map     // ack id -> message id
	mu        sync.Mutex
	c         conn
}

func (s *soakSock) conn() conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.c
}

type soakMsg struct {
	sentAt    int64
	sender    *soakSock
	senderGen int64
	acked     bool
	need      map[int]int64 // member idx -> its gen at send time
}

// SoakSample is one row of soak.csv.
type SoakSample struct {
	T          float64 // seconds since the sockets were up
	RSSMiB     float64
	Goroutines float64
	FDs        float64
	GCMaxMs    float64 // go_gc_duration_seconds{quantile="1"}: the longest of the last few pauses
	GCP99Ms    float64 // p99 of the interval's GC pauses, as the sockside_gc_pause_seconds bucket bound holding it
	LatP50     float64 // chat delivery latency over the interval, ms
	LatP99     float64
	Deliveries int64 // chat deliveries in the interval
	FeedEvents int64 // /feed order events received in the interval
	Connected  int
	Sent       int64 // cumulative from here on
	Acked      int64
	Lost       int64
	Churned    int64
	Drops      int64
}

type soak struct {
	addr    string
	socks   []*soakSock
	rooms   map[string][]*soakSock
	hist    atomic.Pointer[Hist]
	feedEvs atomic.Int64
	deliv   atomic.Int64

	mu      sync.Mutex
	pending map[int64]*soakMsg
	msgSeq  atomic.Int64

	sent, acked, lostMsgs, lostDeliv, unacked, excused atomic.Int64
	churned, drops, redialFail, emitErr                atomic.Int64
}

var soakTextMarker = []byte(`"text":"m`)

func (k *soak) handler(s *soakSock, gen int64, joined chan struct{}) onPacket {
	return func(p []byte) {
		switch p[0] {
		case '2':
			if !s.chat {
				if bytes.Contains(p, []byte(`["order"`)) {
					k.feedEvs.Add(1)
				}
				return
			}
			i := bytes.Index(p, soakTextMarker)
			if i < 0 || !bytes.Contains(p[:i], []byte(`["message"`)) {
				return
			}
			var id int64
			for _, ch := range p[i+len(soakTextMarker):] {
				if ch < '0' || ch > '9' {
					break
				}
				id = id*10 + int64(ch-'0')
			}
			t := now()
			k.mu.Lock()
			m := k.pending[id]
			if m != nil {
				if g, ok := m.need[s.idx]; ok && g == gen {
					delete(m.need, s.idx)
				}
			}
			k.mu.Unlock()
			if m != nil {
				k.hist.Load().Record(time.Duration(t - m.sentAt))
				k.deliv.Add(1)
			}
		case '3':
			id, ok := ackID(p)
			if !ok {
				return
			}
			if id == 1 {
				s.joinedGen.Store(gen)
				select {
				case joined <- struct{}{}:
				default:
				}
				return
			}
			if v, ok := s.acks.LoadAndDelete(id); ok && bytes.Contains(p, []byte(`"ok":true`)) {
				k.mu.Lock()
				if m := k.pending[v.(int64)]; m != nil && !m.acked {
					m.acked = true
					k.acked.Add(1)
				}
				k.mu.Unlock()
			}
		}
	}
}

// connect dials s (a new generation) and joins its room.
func (k *soak) connect(ctx context.Context, s *soakSock) error {
	gen := s.gen.Add(1)
	s.joinedGen.Store(0)
	s.nextID.Store(1)
	nsp := "/feed"
	if s.chat {
		nsp = "/chat"
	}
	joined := make(chan struct{}, 1)
	o := dialOptions{Addr: k.addr, Path: "/socket.io/", Namespace: nsp, Timeout: 20 * time.Second}
	c, err := dial(ctx, "websocket", o, k.handler(s, gen, joined))
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.c = c
	s.mu.Unlock()
	if !s.chat {
		return nil
	}
	if err := c.Emit(1, `["join",{"room":"`+s.room+`"}]`); err != nil {
		return err
	}
	select {
	case <-joined:
		return nil
	case <-c.Done():
		return errors.New("closed before the join was acknowledged")
	case <-time.After(20 * time.Second):
		return errors.New("join not acknowledged in 20s")
	case <-ctx.Done():
		return ctx.Err()
	}
}

// reconnect closes s and connects it again (churn, or after a drop).
func (k *soak) reconnect(ctx context.Context, s *soakSock) {
	if !s.busy.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer s.busy.Store(false)
		s.joinedGen.Store(0)
		s.gen.Add(1) // excuses what it misses while away
		if c := s.conn(); c != nil {
			c.Close()
		}
		for try := 0; try < 3 && ctx.Err() == nil; try++ {
			if err := k.connect(ctx, s); err == nil {
				return
			}
			k.redialFail.Add(1)
			time.Sleep(time.Second)
		}
	}()
}

// send has one joined /chat socket send one message with an ack.
func (k *soak) send(s *soakSock) {
	gen := s.gen.Load()
	if s.joinedGen.Load() != gen || s.busy.Load() {
		return
	}
	members := k.rooms[s.room]
	id := k.msgSeq.Add(1)
	m := &soakMsg{sentAt: now(), sender: s, senderGen: gen, need: make(map[int]int64, len(members))}
	for _, o := range members {
		if g := o.gen.Load(); o.joinedGen.Load() == g && !o.busy.Load() {
			m.need[o.idx] = g
		}
	}
	ack := int(s.nextID.Add(1))
	s.acks.Store(ack, id)
	k.mu.Lock()
	k.pending[id] = m
	k.mu.Unlock()
	k.sent.Add(1)
	if err := s.conn().Emit(ack, `["message",{"room":"`+s.room+`","text":"m`+strconv.FormatInt(id, 10)+`"}]`); err != nil {
		k.emitErr.Add(1)
	}
}

// check settles messages older than the deadline (all when force).
func (k *soak) check(force bool) {
	cut := now() - int64(soakLossDeadline)
	k.mu.Lock()
	defer k.mu.Unlock()
	for id, m := range k.pending {
		if !force && m.sentAt > cut {
			continue
		}
		delete(k.pending, id)
		if !m.acked {
			if m.sender.gen.Load() != m.senderGen {
				k.excused.Add(1)
			} else {
				k.unacked.Add(1)
			}
			continue
		}
		lost := 0
		for idx, g := range m.need {
			if k.socks[idx].gen.Load() == g {
				lost++
			}
		}
		if lost > 0 {
			k.lostMsgs.Add(1)
			k.lostDeliv.Add(int64(lost))
		}
	}
}

// soakServer is ./server started for the soak, its whole output scanned.
type soakServer struct {
	pid    int
	addr   string
	exited chan struct{}
	stop   func()
	logf   string

	mu     sync.Mutex
	panics []string
	errs   int
}

func startSoakServer(root, bin string) (*soakServer, error) {
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "sockside"), "./server")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build ./server: %v\n%s", err, out)
	}
	argv := []string{filepath.Join(bin, "sockside")}
	if os.Getenv(pinnedEnv) != "" {
		argv = append([]string{"taskset", "-c", "0"}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(cleanEnv(), "SOCKET_HOST=127.0.0.1", "SOCKET_PORT=0", "SOCKET_RATE_LIMIT=0", "SOCKET_DEMO=on",
		"FEED_INTERVAL=1s", "LOG_LEVEL=info")
	cmd.Dir = bin
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	logFile, err := os.Create(filepath.Join(bin, "server.log"))
	if err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &soakServer{pid: cmd.Process.Pid, exited: make(chan struct{}), logf: logFile.Name()}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64*1024), 1<<20)
		for sc.Scan() {
			l := sc.Text()
			fmt.Fprintln(logFile, l)
			if m := listenRE.FindStringSubmatch(l); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
			low := strings.ToLower(l)
			s.mu.Lock()
			if strings.Contains(low, "panic") {
				s.panics = append(s.panics, l)
			}
			if strings.Contains(l, "level=ERROR") {
				s.errs++
			}
			s.mu.Unlock()
		}
	}()
	go func() { _ = cmd.Wait(); pw.Close(); close(s.exited) }()
	s.stop = func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-s.exited
		logFile.Close()
	}
	select {
	case s.addr = <-addr:
		return s, nil
	case <-s.exited:
		s.stop()
		b, _ := os.ReadFile(s.logf)
		return nil, fmt.Errorf("server exited at start-up:\n%s", b)
	case <-time.After(30 * time.Second):
		s.stop()
		return nil, errors.New("server did not listen within 30s")
	}
}

// scrape reads go_goroutines, go_gc_duration_seconds{quantile="1"} (s) and
// the cumulative buckets of sockside_gc_pause_seconds (le -> count).
func scrape(addr string) (gor, gcMax float64, pauses map[float64]float64) {
	gor, gcMax = nan, nan
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return
	}
	defer resp.Body.Close()
	pauses = map[float64]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if v, ok := strings.CutPrefix(l, "go_goroutines "); ok {
			gor, _ = strconv.ParseFloat(v, 64)
		}
		if v, ok := strings.CutPrefix(l, `go_gc_duration_seconds{quantile="1"} `); ok {
			gcMax, _ = strconv.ParseFloat(v, 64)
		}
		if rest, ok := strings.CutPrefix(l, `sockside_gc_pause_seconds_bucket{le="`); ok {
			le, count, ok := strings.Cut(rest, `"} `)
			if !ok {
				continue
			}
			b, err1 := strconv.ParseFloat(le, 64) // "+Inf" parses as +Inf
			n, err2 := strconv.ParseFloat(count, 64)
			if err1 == nil && err2 == nil {
				pauses[b] = n
			}
		}
	}
	return
}

// pauseP99 is the bucket bound holding the 99th percentile of the pauses
// between two scrapes of cumulative buckets, in seconds: 0 without a pause
// in between, NaN without the histogram.
func pauseP99(prev, cur map[float64]float64) float64 {
	if len(cur) == 0 {
		return nan
	}
	bounds := make([]float64, 0, len(cur))
	for b := range cur {
		bounds = append(bounds, b)
	}
	sort.Float64s(bounds)
	total := cur[bounds[len(bounds)-1]] - prev[bounds[len(bounds)-1]]
	if total <= 0 {
		return 0
	}
	for _, b := range bounds {
		if cur[b]-prev[b] >= 0.99*total {
			return b
		}
	}
	return math.Inf(1)
}

func procRSSMiB(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nan
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	return nan
}

func procFDs(pid int) float64 {
	es, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return nan
	}
	return float64(len(es))
}

func runSoak() error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	out := *soakOut
	if out == "" {
		out = filepath.Join(root, "bench", "results", "soak")
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	bin, err := os.MkdirTemp("", "sockside-soak-")
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, err := startSoakServer(root, bin)
	if err != nil {
		return err
	}
	defer srv.stop()
	logf("soak: server pid %d on %s (log %s); %d sockets for %v, sample every %v, churn %.0f%%/min",
		srv.pid, srv.addr, srv.logf, *soakSockets, *soakDuration, *soakSample, *soakChurn*100)

	k := &soak{addr: srv.addr, rooms: map[string][]*soakSock{}, pending: map[int64]*soakMsg{}}
	k.hist.Store(&Hist{})
	nChat := int(math.Round(float64(*soakSockets) * *soakChatPart))
	for i := range *soakSockets {
		s := &soakSock{idx: i, chat: i < nChat}
		if s.chat {
			s.room = "soak-" + strconv.Itoa(i / *soakRoomSize)
			k.rooms[s.room] = append(k.rooms[s.room], s)
		}
		k.socks = append(k.socks, s)
	}
	t0 := time.Now()
	sem := make(chan struct{}, 100)
	var wg sync.WaitGroup
	var failed atomic.Int64
	var firstErr atomic.Value
	for _, s := range k.socks {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := k.connect(ctx, s); err != nil {
				failed.Add(1)
				firstErr.CompareAndSwap(nil, err.Error())
			}
		}()
	}
	wg.Wait()
	if n := failed.Load(); n > 0 {
		return fmt.Errorf("%d of %d sockets failed to connect: %v", n, len(k.socks), firstErr.Load())
	}
	logf("soak: %d sockets up in %v (%d on /chat in %d rooms, %d on /feed)", len(k.socks),
		time.Since(t0).Round(time.Millisecond), nChat, len(k.rooms), len(k.socks)-nChat)

	var samples []SoakSample
	var lastPauses map[float64]float64
	start := time.Now()
	sample := func() {
		gor, gc, pauses := scrape(srv.addr)
		gcP99 := pauseP99(lastPauses, pauses)
		lastPauses = pauses
		h := k.hist.Swap(&Hist{})
		connected := 0
		for _, s := range k.socks {
			if c := s.conn(); c != nil && !s.busy.Load() {
				select {
				case <-c.Done():
				default:
					connected++
				}
			}
		}
		r := SoakSample{
			T: math.Round(time.Since(start).Seconds()), RSSMiB: procRSSMiB(srv.pid), Goroutines: gor, FDs: procFDs(srv.pid),
			GCMaxMs: gc * 1000, GCP99Ms: gcP99 * 1000, LatP50: h.Quantile(0.5), LatP99: h.Quantile(0.99),
			Deliveries: k.deliv.Swap(0), FeedEvents: k.feedEvs.Swap(0), Connected: connected,
			Sent: k.sent.Load(), Acked: k.acked.Load(), Lost: k.lostMsgs.Load(), Churned: k.churned.Load(), Drops: k.drops.Load(),
		}
		samples = append(samples, r)
		logf("soak t=%4.0fs rss=%.1fMiB goroutines=%.0f fds=%.0f gc_p99<=%.2fms gc_max=%.2fms lat_p99=%.1fms deliveries=%d feed=%d connected=%d sent=%d acked=%d lost=%d churned=%d drops=%d",
			r.T, r.RSSMiB, r.Goroutines, r.FDs, r.GCP99Ms, r.GCMaxMs, r.LatP99, r.Deliveries, r.FeedEvents, r.Connected, r.Sent, r.Acked, r.Lost, r.Churned, r.Drops)
	}
	k.deliv.Store(0)
	k.feedEvs.Store(0)
	sample()

	msgRate := float64(nChat) / soakMsgEvery.Seconds() // msg/s in all
	churnPerSec := float64(len(k.socks)) * *soakChurn / 60
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	nextSample := start.Add(*soakSample)
	end := start.Add(*soakDuration)
	var sendAcc, churnAcc float64
	last := time.Now()
	lastSec := time.Now()
	var chats []*soakSock
	for _, s := range k.socks {
		if s.chat {
			chats = append(chats, s)
		}
	}
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-srv.exited:
			logf("soak: the server exited")
			break loop
		case t := <-tick.C:
			dt := t.Sub(last).Seconds()
			last = t
			if len(chats) > 0 {
				for sendAcc += msgRate * dt; sendAcc >= 1; sendAcc-- {
					k.send(chats[rand.IntN(len(chats))])
				}
			}
			if t.Sub(lastSec) >= time.Second {
				lastSec = t
				for churnAcc += churnPerSec; churnAcc >= 1; churnAcc-- {
					s := k.socks[rand.IntN(len(k.socks))]
					if !s.busy.Load() {
						k.churned.Add(1)
						k.reconnect(ctx, s)
					}
				}
				for _, s := range k.socks { // unexpected drops: count and redial
					if c := s.conn(); c != nil && !s.busy.Load() {
						select {
						case <-c.Done():
							k.drops.Add(1)
							k.reconnect(ctx, s)
						default:
						}
					}
				}
				k.check(false)
			}
			if !t.Before(nextSample) {
				sample()
				nextSample = nextSample.Add(*soakSample)
			}
			if !t.Before(end) {
				break loop
			}
		}
	}
	logf("soak: stopping the senders; waiting %v for the last deliveries", soakLossDeadline)
	time.Sleep(soakLossDeadline + time.Second)
	k.check(true)
	srvAlive := true
	select {
	case <-srv.exited:
		srvAlive = false
	default:
	}
	for _, s := range k.socks {
		if c := s.conn(); c != nil {
			c.Close()
		}
	}
	v := soakVerdict(k, srv, samples, srvAlive)
	if err := writeSoak(out, samples, v); err != nil {
		return err
	}
	fmt.Print(soakMarkdown(samples, v))
	if !v.Pass {
		return errors.New("soak failed")
	}
	return ctx.Err()
}

type soakResult struct {
	Pass  bool
	Lines []string
}

func meanOf(ss []SoakSample, f func(SoakSample) float64) float64 {
	var sum float64
	for _, s := range ss {
		sum += f(s)
	}
	return sum / float64(len(ss))
}

func soakVerdict(k *soak, srv *soakServer, ss []SoakSample, alive bool) soakResult {
	r := soakResult{Pass: true}
	add := func(ok bool, format string, args ...any) {
		mark := "PASS"
		if !ok {
			mark, r.Pass = "FAIL", false
		}
		r.Lines = append(r.Lines, mark+" "+fmt.Sprintf(format, args...))
	}
	n := len(ss)
	if n < 6 {
		add(false, "only %d samples: too few to judge a trend (run longer or sample more often)", n)
	} else {
		third := n / 3
		mid, last := ss[third:2*third], ss[n-third:]
		trend := func(name string, f func(SoakSample) float64, rel, abs float64) {
			m, l := meanOf(mid, f), meanOf(last, f)
			add(l <= m*(1+rel)+abs, "%s: mean of the last third %.1f vs the middle third %.1f (%+.1f%%; allowed +%.0f%% +%.0f)",
				name, l, m, (l/m-1)*100, rel*100, abs)
		}
		trend("RSS MiB", func(s SoakSample) float64 { return s.RSSMiB }, 0.10, 0)
		trend("goroutines", func(s SoakSample) float64 { return s.Goroutines }, 0.05, 20)
		trend("open fds", func(s SoakSample) float64 { return s.FDs }, 0.05, 20)
	}
	add(k.lostMsgs.Load() == 0, "lost acked messages: %d of %d acked (%d deliveries missing after %v to members present throughout); sent %d, unacked %d, excused by the sender's churn %d",
		k.lostMsgs.Load(), k.acked.Load(), k.lostDeliv.Load(), soakLossDeadline, k.sent.Load(), k.unacked.Load(), k.excused.Load())
	srv.mu.Lock()
	panics, errs := slices0(srv.panics), srv.errs
	srv.mu.Unlock()
	add(len(panics) == 0 && alive, "server panics: %d (lines matching \"panic\" in its output), server alive at the end: %v, level=ERROR lines: %d", len(panics), alive, errs)
	for i, l := range panics {
		if i == 5 {
			break
		}
		r.Lines = append(r.Lines, "    "+l)
	}
	r.Lines = append(r.Lines, fmt.Sprintf("info: churned %d sockets, unexpected drops %d, failed redials %d, emit errors %d",
		k.churned.Load(), k.drops.Load(), k.redialFail.Load(), k.emitErr.Load()))
	return r
}

func slices0(s []string) []string { return append([]string(nil), s...) }

func soakMarkdown(ss []SoakSample, v soakResult) string {
	var b strings.Builder
	b.WriteString("| t (min) | RSS (MiB) | goroutines | open fds | GC pause p99 (ms, at most) | GC pause max (ms) | chat latency p99 (ms) | deliveries | connected |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, s := range ss {
		fmt.Fprintf(&b, "| %.1f | %.1f | %.0f | %.0f | %.2f | %.2f | %.1f | %d | %d |\n",
			s.T/60, s.RSSMiB, s.Goroutines, s.FDs, s.GCP99Ms, s.GCMaxMs, s.LatP99, s.Deliveries, s.Connected)
	}
	b.WriteString("\n")
	for _, l := range v.Lines {
		b.WriteString(l + "\n")
	}
	if v.Pass {
		b.WriteString("verdict: PASS\n")
	} else {
		b.WriteString("verdict: FAIL\n")
	}
	return b.String()
}

func writeSoak(dir string, ss []SoakSample, v soakResult) error {
	var b strings.Builder
	b.WriteString("t_s,rss_mib,goroutines,fds,gc_pause_p99_ms,gc_pause_max_ms,latency_p50_ms,latency_p99_ms,deliveries,feed_events,connected,sent,acked,lost,churned,drops\n")
	for _, s := range ss {
		fmt.Fprintf(&b, "%.0f,%.2f,%.0f,%.0f,%.3f,%.3f,%.2f,%.2f,%d,%d,%d,%d,%d,%d,%d,%d\n", s.T, s.RSSMiB, s.Goroutines, s.FDs,
			s.GCP99Ms, s.GCMaxMs, s.LatP50, s.LatP99, s.Deliveries, s.FeedEvents, s.Connected, s.Sent, s.Acked, s.Lost, s.Churned, s.Drops)
	}
	if err := os.WriteFile(filepath.Join(dir, "soak.csv"), []byte(b.String()), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "soak.md"), []byte(soakMarkdown(ss, v)), 0o644); err != nil {
		return err
	}
	png, err := soakChart(ss)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "soak.png"), png, 0o644); err != nil {
		return err
	}
	logf("wrote %s/{soak.csv,soak.md,soak.png}", dir)
	return nil
}
