// Command bench measures sockside against the Node socket.io 4.8.4
// reference server with one load generator (Engine.IO v4 / Socket.IO v5 over
// websocket and long-polling): idle capacity and memory per connection, echo
// throughput and latency, a broadcast ramp to many receivers, and polling
// echo; on request (-scenarios slow) whether a receiver that stops reading
// slows a room broadcast to the others. Each server is started fresh per
// run, pinned to one core with taskset (the generator to another), and the
// runs are interleaved.
//
//	go run ./bench            # the comparison (3 reps; about 20 minutes)
//	go run ./bench -quick     # a smoke run in under 2 minutes
//	go run ./bench -full      # adds 19,500 idle connections
//	go run ./bench -scenarios slow   # only the stuck-receiver comparison
//	go run ./bench -scenarios next   # sockside's echo direct and through next start
//	go run ./bench -profile cpu.pprof  # CPU profile of sockside during the broadcast ramp (-scenarios echo: the echo; -scenarios idle: a heap profile of idle connections)
//
// It writes results.md, results.json and broadcast-latency.png to -out.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05 ")+format+"\n", args...)
}

// plan is everything a bench run does.
type plan struct {
	Reps         int           `json:"reps"`
	Servers      []string      `json:"servers"`
	Scenarios    []string      `json:"scenarios"`
	IdleSizes    []int         `json:"idle_sizes"`
	IdleHold     time.Duration `json:"idle_hold_ns"`
	EchoClients  int           `json:"echo_clients"`
	EchoWarmup   time.Duration `json:"echo_warmup_ns"`
	EchoDuration time.Duration `json:"echo_duration_ns"`
	PollClients  int           `json:"poll_clients"`
	Receivers    int           `json:"receivers"`
	Rates        []int         `json:"rates"`
	Step         time.Duration `json:"step_ns"`
	Drain        time.Duration `json:"drain_ns"`
	PingInterval time.Duration `json:"idle_ping_interval_ns"`
	PingTimeout  time.Duration `json:"idle_ping_timeout_ns"`
	// The slow scenario: one broadcast rate for one step, each message's
	// text padded to SlowText bytes, sockside with SOCKET_SEND_BUFFER at
	// SlowSendBuffer.
	SlowRate       int           `json:"slow_rate,omitempty"`
	SlowStep       time.Duration `json:"slow_step_ns,omitempty"`
	SlowText       int           `json:"slow_text,omitempty"`
	SlowSendBuffer int64         `json:"slow_send_buffer,omitempty"`

	root string // the module root (the next scenario builds web/ there)
}

func defaultPlan(quick, full bool) plan {
	p := plan{
		Reps:         3,
		Servers:      []string{kindNode, kindSockside, kindRecovery},
		Scenarios:    []string{"idle", "echo", "broadcast", "polling"},
		IdleSizes:    []int{1000, 5000, 10000},
		EchoClients:  100,
		EchoWarmup:   time.Second,
		EchoDuration: 10 * time.Second,
		PollClients:  100,
		Receivers:    1000,
		Rates:        []int{10, 25, 50, 100, 200, 400, 700, 1000},
		Step:         5 * time.Second,
		Drain:        3 * time.Second,
		PingInterval: 5 * time.Second,
		PingTimeout:  5 * time.Second,
		// 50 msg/s of 4,000-byte texts grow a stuck receiver's backlog by
		// about 200 KB/s: past loopback's socket buffers (about 3.8 MB
		// with the sender's autotuning) and sockside's send bound, lowered
		// to 1 MB, within the 30 s step (measured: cut after 24.5 s, at
		// about 4.8 MB). Both servers also cut a peer that stops reading
		// when a ping goes unanswered, 20-45 s after it stopped at the
		// default 25 s interval and 20 s timeout.
		SlowRate:       50,
		SlowStep:       30 * time.Second,
		SlowText:       4000,
		SlowSendBuffer: 1000000, // SOCKET_MAX_PAYLOAD's default, the least sockside accepts
	}
	// Only the idle holders see these short pings (so that every holder
	// answers some while held); the other scenarios run with both servers'
	// defaults, 25 s / 20 s, so that a saturated server or generator is
	// measured as slow rather than cut off by a ping timeout.
	p.IdleHold = p.PingInterval + time.Second // every holder answers a ping
	if full {
		p.IdleSizes = append(p.IdleSizes, 19500)
		p.IdleHold = 2*p.PingInterval + time.Second
	}
	if quick {
		p.Reps = 1
		p.Servers = []string{kindNode, kindSockside}
		p.IdleSizes = []int{1000}
		p.IdleHold = time.Second
		p.EchoClients, p.PollClients = 50, 20
		p.EchoWarmup, p.EchoDuration = 500*time.Millisecond, 2*time.Second
		p.Receivers = 200
		p.Rates = []int{10, 50, 200}
		p.Step, p.Drain = 2*time.Second, 2*time.Second
		// SlowStep stays: a shorter step ends before sockside's bound is
		// reached.
	}
	return p
}

// runsOn says whether a server takes part in a scenario: recovery's cost
// is measured where it can show (echo, broadcast), not on idle memory or a
// stuck receiver.
func runsOn(kind, scenario string) bool {
	if scenario == "next" {
		return kind == kindSockside // Next's proxy in front of sockside, against sockside alone
	}
	if kind == kindRecovery {
		return scenario == "echo" || scenario == "broadcast"
	}
	return true
}

// Run is one scenario against one server in one repetition.
type Run struct {
	Scenario string             `json:"scenario"` // idle/<n>, echo, broadcast, polling, slow/base, slow/stuck
	Server   string             `json:"server"`
	Rep      int                `json:"rep"`
	Metrics  map[string]float64 `json:"metrics,omitempty"`
	Steps    []Step             `json:"steps,omitempty"`
	Error    string             `json:"error,omitempty"`
	Load1    float64            `json:"load1"` // 1-minute load average at the start
	Seconds  float64            `json:"seconds"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		quick     = flag.Bool("quick", false, "a smoke run: 1 rep, node and sockside, small sizes (under 2 minutes)")
		full      = flag.Bool("full", false, "add 19,500 idle connections, held through two ping cycles")
		reps      = flag.Int("reps", 0, "repetitions (default 3, -quick 1)")
		servers   = flag.String("servers", "", "comma-separated: node, sockside, sockside-recovery")
		scenarios = flag.String("scenarios", "", "comma-separated: idle, echo, broadcast, polling (the default run); on request only: slow (the broadcast at -slow-rate with 4 KB texts, without and then with one receiver that stops reading), next (sockside's websocket and polling echo direct and through next start of web/)")
		receivers = flag.Int("receivers", 0, "broadcast receivers (default 1000, -quick 200)")
		rates     = flag.String("rates", "", "broadcast ramp, msg/s, comma-separated")
		slowRate  = flag.Int("slow-rate", 0, "slow scenario: broadcast rate, msg/s (default 50)")
		out       = flag.String("out", "", "output directory (default bench/results, -quick bench/results/quick)")
		pin       = flag.Bool("pin", true, "pin servers to CPU 0 and the generator to CPU 1 with taskset")
		profile   = flag.String("profile", "", "instead of the comparison: CPU-profile sockside (internal/app in this binary, with net/http/pprof) during the broadcast ramp (or the echo, with -scenarios echo; or a heap profile of the largest idle size held, with -scenarios idle), write the profile here and print its top")
		serve     = flag.Bool("serve", false, "internal: run sockside's app in this process for -profile")
		report    = flag.String("report", "", "only rewrite results.md and the chart from this results.json")
	)
	flag.Parse()
	if *serve {
		return serveInProcess()
	}
	if *report != "" {
		b, err := os.ReadFile(*report)
		if err != nil {
			return err
		}
		var res Results
		if err := json.Unmarshal(b, &res); err != nil {
			return err
		}
		return res.write(filepath.Dir(*report))
	}
	raiseFileLimit()
	if *pin {
		if err := pinGenerator(); err != nil {
			return err
		}
	}
	if *soakMode {
		return runSoak() // bench/soak.go
	}
	p := defaultPlan(*quick, *full)
	if *reps > 0 {
		p.Reps = *reps
	}
	if *servers != "" {
		p.Servers = strings.Split(*servers, ",")
	}
	if *scenarios != "" {
		p.Scenarios = strings.Split(*scenarios, ",")
	}
	if *receivers > 0 {
		p.Receivers = *receivers
	}
	if *slowRate > 0 {
		p.SlowRate = *slowRate
	}
	if *rates != "" {
		p.Rates = nil
		for _, r := range strings.Split(*rates, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(r))
			if err != nil || n <= 0 {
				return fmt.Errorf("-rates: bad rate %q", r)
			}
			p.Rates = append(p.Rates, n)
		}
	}
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	bin, err := os.MkdirTemp("", "sockside-bench-bin-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(bin)
	p.root = root
	env := serverEnv{
		Root: root, BinDir: bin, CacheDir: filepath.Join(cache, "sockside-bench"),
		PingInterval: p.PingInterval, PingTimeout: p.PingTimeout, SelfExe: self,
	}
	if os.Getenv(pinnedEnv) != "" {
		env.Pin = "0"
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if *profile != "" {
		return runProfile(ctx, env, p, *profile)
	}
	dir := *out
	if dir == "" {
		dir = filepath.Join(root, "bench", "results")
		if *quick {
			dir = filepath.Join(dir, "quick")
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	res := &Results{
		Command: "go run ./bench " + strings.Join(os.Args[1:], " "),
		Machine: machineInfo(),
		Plan:    p,
		Pinned:  env.Pin != "",
		Started: time.Now().UTC(),
	}
	logf("plan: %d reps of %v against %v; machine: %s, load %s", p.Reps, p.Scenarios, p.Servers, res.Machine.CPU, res.Machine.LoadStart)
	res.Runs = runPlan(ctx, env, p)
	res.Finished = time.Now().UTC()
	res.Machine.LoadEnd = loadAvg()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return res.write(dir)
}

// runPlan runs every scenario against every server, repetitions
// interleaved (rep 1 of everything, then rep 2, ...) and the server order
// rotated per repetition, so that drift of a shared machine spreads evenly.
func runPlan(ctx context.Context, env serverEnv, p plan) []Run {
	type unit struct {
		scenario string // idle/<n>, echo, ...
		base     string
	}
	var units []unit
	for _, sc := range p.Scenarios {
		switch sc {
		case "idle":
			for _, n := range p.IdleSizes {
				units = append(units, unit{"idle/" + strconv.Itoa(n), sc})
			}
			continue
		case "slow":
			// Two phases, each a run on a fresh server, so that the stuck
			// receiver's phase starts from the same state as its baseline.
			units = append(units, unit{slowBase, sc}, unit{slowStuck, sc})
			continue
		}
		units = append(units, unit{sc, sc})
	}
	var runs []Run
	for rep := 1; rep <= p.Reps; rep++ {
		for _, u := range units {
			order := slices.Clone(p.Servers)
			for range (rep - 1) % len(order) {
				order = append(order[1:], order[0])
			}
			for _, kind := range order {
				if !runsOn(kind, u.base) || ctx.Err() != nil {
					continue
				}
				r := runOne(ctx, env, p, kind, u.scenario, u.base, rep)
				runs = append(runs, r)
			}
		}
	}
	pairSlow(runs)
	return runs
}

func runOne(ctx context.Context, env serverEnv, p plan, kind, scenario, base string, rep int) Run {
	r := Run{Scenario: scenario, Server: kind, Rep: rep, Load1: load1()}
	logf("rep %d: %s on %s (load %.2f)", rep, scenario, kind, r.Load1)
	t0 := time.Now()
	if base != "idle" {
		env.PingInterval, env.PingTimeout = 25*time.Second, 20*time.Second
	}
	if base == "slow" {
		env.SendBuffer = p.SlowSendBuffer
	}
	s, err := env.start(ctx, kind)
	if err != nil {
		r.Error = err.Error()
		logf("  start failed: %v", err)
		return r
	}
	defer s.Stop()
	m, steps, err := runScenario(ctx, s, p, scenario, base)
	r.Seconds = time.Since(t0).Seconds()
	if err != nil {
		r.Error = err.Error()
		logf("  failed: %v", err)
		if tail := s.stderr.String(); tail != "" {
			logf("  server output (tail):\n%s", tail)
		}
	}
	r.Metrics = finite(m)
	r.Steps = steps
	if err == nil {
		logf("  %s", formatMetrics(r.Metrics))
	}
	return r
}

// runScenario runs one scenario against a running server.
func runScenario(ctx context.Context, s *server, p plan, scenario, base string) (metrics, []Step, error) {
	timeout := 20 * time.Second
	switch base {
	case "idle":
		n, _ := strconv.Atoi(strings.TrimPrefix(scenario, "idle/"))
		m, err := runIdle(ctx, s, idleParams{Conns: n, Hold: p.IdleHold, Parallel: 100, Timeout: timeout})
		return m, nil, err
	case "echo", "polling":
		ep := echoParams{Transport: "websocket", Clients: p.EchoClients, Warmup: p.EchoWarmup, Duration: p.EchoDuration,
			Timeout: timeout, Payload: `,"hello from the bench, 32 bytes"]`}
		if base == "polling" {
			ep.Transport, ep.Clients = "polling", p.PollClients
		}
		m, err := runEcho(ctx, s, ep)
		return m, nil, err
	case "broadcast":
		return runBroadcast(ctx, s, broadcastParams{
			Receivers: p.Receivers, Rates: p.Rates, Step: p.Step, Drain: p.Drain, Timeout: timeout * 3,
			MaxLoss: 0.01, MaxP99: time.Second,
		})
	case "next":
		ep := echoParams{Clients: p.EchoClients, Warmup: p.EchoWarmup, Duration: p.EchoDuration,
			Timeout: timeout, Payload: `,"hello from the bench, 32 bytes"]`}
		m, err := runNext(ctx, s, filepath.Join(p.root, "web"), ep)
		return m, nil, err
	case "slow":
		bp := broadcastParams{
			Receivers: p.Receivers, Rates: []int{p.SlowRate}, Step: p.SlowStep, Drain: p.Drain, Timeout: timeout * 3,
			MaxLoss: 0.01, MaxP99: time.Second, TextSize: p.SlowText, Watch: true,
		}
		switch scenario {
		case slowBase:
		case slowStuck:
			bp.Stuck = 1
		default:
			return nil, nil, fmt.Errorf("unknown scenario %q", scenario)
		}
		m, steps, err := runBroadcast(ctx, s, bp)
		if err == nil {
			addSlowStep(m, steps)
		}
		return m, steps, err
	}
	return nil, nil, fmt.Errorf("unknown scenario %q", scenario)
}

// runProfile ramps the broadcast against sockside's app in a -serve child
// and keeps a CPU profile of exactly the ramp.
func runProfile(ctx context.Context, env serverEnv, p plan, path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	env.ProfilePath = abs
	s, err := env.start(ctx, kindPprof)
	if err != nil {
		return err
	}
	defer s.Stop()
	what := "the broadcast ramp"
	if len(p.Scenarios) == 1 && p.Scenarios[0] == "idle" {
		// A heap profile, not CPU: what the held connections keep alive.
		n := p.IdleSizes[len(p.IdleSizes)-1]
		logf("heap profile of sockside (pid %d) with %d idle websockets", s.PID, n)
		m, err := runIdle(ctx, s, idleParams{Conns: n, Hold: p.IdleHold, Parallel: 100, Timeout: 20 * time.Second,
			OnHeld: func() error {
				for _, name := range []string{"go_memstats_heap_inuse_bytes", "go_memstats_stack_inuse_bytes", "go_memstats_sys_bytes", "process_resident_memory_bytes"} {
					if v, ok, err := scrapeMetric(s, name); err == nil && ok {
						logf("  %s: %.1f KiB per connection", name, v/1024/float64(n))
					}
				}
				return fetchHeapProfile(s, abs)
			}})
		if err != nil {
			return err
		}
		logf("  %s", formatMetrics(m))
		return printProfileTop(abs, "-sample_index=inuse_space")
	}
	if len(p.Scenarios) == 1 && p.Scenarios[0] == "echo" {
		what = "the websocket echo"
		logf("profiling sockside (pid %d, pprof on http://%s/debug/pprof/) during %s", s.PID, s.PprofAddr, what)
		signalProfile(s, true)
		_, _, err = runScenario(ctx, s, p, "echo", "echo")
		signalProfile(s, false)
	} else {
		logf("profiling sockside (pid %d, pprof on http://%s/debug/pprof/) during %s to %d receivers", s.PID, s.PprofAddr, what, p.Receivers)
		_, _, err = runBroadcast(ctx, s, broadcastParams{
			Receivers: p.Receivers, Rates: p.Rates, Step: p.Step, Drain: p.Drain, Timeout: 60 * time.Second,
			MaxLoss: 0.01, MaxP99: time.Second,
			OnRamp: func(start bool) { signalProfile(s, start) },
		})
	}
	if err != nil {
		return err
	}
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(s.stderr.String(), "cpu profile written") {
		if time.Now().After(deadline) {
			return errors.New("the server did not write the profile")
		}
		time.Sleep(50 * time.Millisecond)
	}
	logf("profile of %s written to %s", what, abs)
	return printProfileTop(abs)
}

// printProfileTop prints the flat and cumulative top of a profile and
// keeps them next to it (path.top.txt).
func printProfileTop(path string, args ...string) error {
	top, err := exec.Command("go", append(append([]string{"tool", "pprof", "-top", "-nodecount=30"}, args...), path)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("go tool pprof: %v\n%s", err, top)
	}
	cum, _ := exec.Command("go", append(append([]string{"tool", "pprof", "-top", "-cum", "-nodecount=40"}, args...), path)...).CombinedOutput()
	txt := "flat:\n" + string(top) + "\ncumulative:\n" + string(cum)
	fmt.Print(txt)
	return os.WriteFile(path+".top.txt", []byte(txt), 0o644)
}

const pinnedEnv = "SOCKSIDE_BENCH_PINNED"

// pinGenerator re-executes the bench under `taskset -c 1` (servers then go
// to CPU 0); without taskset or a second CPU it runs unpinned.
func pinGenerator() error {
	if os.Getenv(pinnedEnv) != "" {
		return nil
	}
	ts, err := exec.LookPath("taskset")
	if err != nil || runtime.NumCPU() < 2 {
		logf("not pinning (taskset: %v, CPUs: %d)", err, runtime.NumCPU())
		return nil
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	argv := append([]string{ts, "-c", "1", self}, os.Args[1:]...)
	return syscall.Exec(ts, argv, append(os.Environ(), pinnedEnv+"=1"))
}

// raiseFileLimit lifts the soft descriptor limit to the hard one (servers
// started from here inherit it).
func raiseFileLimit() {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return
	}
	if l.Cur < l.Max {
		l.Cur = l.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
			logf("raising the file limit: %v", err)
		}
	}
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(b), "module github.com/sockside/sockside\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run from inside the sockside module")
		}
		dir = parent
	}
}

func finite(m metrics) map[string]float64 {
	if m == nil {
		return nil
	}
	out := map[string]float64{}
	for k, v := range m {
		if !isNaN(v) {
			out[k] = v
		}
	}
	return out
}

func isNaN(v float64) bool { return v != v }

func formatMetrics(m map[string]float64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s ", k, num(m[k]))
	}
	return b.String()
}

// ---------------------------------------------------------------- machine

// Machine describes where the numbers were taken.
type Machine struct {
	CPU       string `json:"cpu"`
	CPUs      int    `json:"cpus"`
	MemMiB    int    `json:"mem_mib"`
	Kernel    string `json:"kernel"`
	Go        string `json:"go"`
	Node      string `json:"node"`
	FileLimit uint64 `json:"file_limit"`
	LoadStart string `json:"load_start"`
	LoadEnd   string `json:"load_end"`
}

func machineInfo() Machine {
	m := Machine{Go: runtime.Version(), LoadStart: loadAvg()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok {
				switch strings.TrimSpace(k) {
				case "model name":
					m.CPU = strings.TrimSpace(v)
				case "processor":
					m.CPUs++
				}
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int
		fmt.Sscanf(strings.TrimPrefix(strings.SplitN(string(b), "\n", 2)[0], "MemTotal:"), "%d", &kb)
		m.MemMiB = kb / 1024
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if out, err := exec.Command("node", "--version").Output(); err == nil {
		m.Node = strings.TrimSpace(string(out))
	}
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) == nil {
		m.FileLimit = l.Cur
	}
	return m
}

// loadAvg is /proc/loadavg's three averages.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

func load1() float64 {
	v, _ := strconv.ParseFloat(strings.Fields(loadAvg() + " 0")[0], 64)
	return v
}

// Results is what a run writes as JSON.
type Results struct {
	Command  string    `json:"command"`
	Machine  Machine   `json:"machine"`
	Plan     plan      `json:"plan"`
	Pinned   bool      `json:"pinned"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Runs     []Run     `json:"runs"`
	Summary  []Row     `json:"summary"`
}

func (r *Results) write(dir string) error {
	rows, curves := r.summarise()
	r.Summary = rows
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	md := r.markdown(rows)
	if err := os.WriteFile(filepath.Join(dir, "results.md"), []byte(md), 0o644); err != nil {
		return err
	}
	png, err := chartPNG(fmt.Sprintf("broadcast to %d receivers: latency vs rate (median of reps)", r.Plan.Receivers), curves)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "broadcast-latency.png"), png, 0o644); err != nil {
		return err
	}
	fmt.Print(md)
	logf("wrote %s/{results.md,results.json,broadcast-latency.png}", dir)
	return nil
}
