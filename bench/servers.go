package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	rpprof "runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/sockside/sockside"
	"github.com/sockside/sockside/config"
	"github.com/sockside/sockside/namespaces"
)

// Server kinds the bench can start.
const (
	kindNode     = "node"              // socket.io 4.8.4 (bench/node)
	kindSockside = "sockside"          // ./server, recovery off
	kindRecovery = "sockside-recovery" // ./server, recovery on (2m, the default)
	kindPprof    = "sockside-pprof"    // this binary's -serve mode: internal/app plus net/http/pprof
)

// server is a running server under test.
type server struct {
	Kind      string
	Addr      string // host:port
	PprofAddr string // host:port of net/http/pprof (kindPprof only)
	PID       int    // 0 for an in-process server (no RSS/CPU figures)
	cmd       *exec.Cmd
	stderr    *tailBuffer
	stop      func()
}

// serverEnv is what every server gets besides its own settings.
type serverEnv struct {
	Root         string        // module root (for ./server and bench/node)
	BinDir       string        // where the sockside binary is built
	CacheDir     string        // node_modules cache
	PingInterval time.Duration // same for every server
	PingTimeout  time.Duration
	Pin          string // taskset CPU list for servers ("" = no pinning)
	SelfExe      string // this binary, for kindPprof
	ProfilePath  string // kindPprof: where SIGUSR1..SIGUSR2 writes the CPU profile
	SendBuffer   int64  // sockside's SOCKET_SEND_BUFFER (0: its default); Node has no such bound
}

var (
	buildOnce sync.Once
	buildErr  error
	nodeOnce  sync.Once
	nodeDir   string
	nodeErr   error
)

// prepare builds or installs what kind needs, once.
func (e serverEnv) prepare(kind string) error {
	switch kind {
	case kindSockside, kindRecovery:
		buildOnce.Do(func() {
			cmd := exec.Command("go", "build", "-o", filepath.Join(e.BinDir, "sockside"), "./server")
			cmd.Dir = e.Root
			if out, err := cmd.CombinedOutput(); err != nil {
				buildErr = fmt.Errorf("go build ./server: %v\n%s", err, out)
			}
		})
		return buildErr
	case kindNode:
		nodeOnce.Do(func() { nodeDir, nodeErr = e.installNode() })
		return nodeErr
	case kindPprof:
		return nil
	}
	return fmt.Errorf("unknown server %q", kind)
}

// installNode copies bench/node into a cache directory keyed by its lock
// file and runs npm ci there when node_modules is missing.
func (e serverEnv) installNode() (string, error) {
	src := filepath.Join(e.Root, "bench", "node")
	lock, err := os.ReadFile(filepath.Join(src, "package-lock.json"))
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(lock)
	dir := filepath.Join(e.CacheDir, "node-"+hex.EncodeToString(sum[:6]))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	for _, f := range []string{"package.json", "package-lock.json", "server.js"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			return "", err
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			return "", err
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "socket.io", "package.json")); err == nil {
		return dir, nil
	}
	logf("installing socket.io for the reference server (npm ci in %s)", dir)
	cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("npm ci: %v\n%s", err, out)
	}
	return dir, nil
}

var listenRE = regexp.MustCompile(`(?:msg="sockside listening" addr=|^listening )(\S+)`)
var pprofRE = regexp.MustCompile(`msg="pprof listening" addr=(\S+)`)

// start launches a fresh server of kind and waits until it listens.
func (e serverEnv) start(ctx context.Context, kind string) (*server, error) {
	if err := e.prepare(kind); err != nil {
		return nil, err
	}
	var argv []string
	env := cleanEnv()
	dir, err := os.MkdirTemp("", "sockside-bench-srv-")
	if err != nil {
		return nil, err
	}
	sockEnv := []string{
		"SOCKET_HOST=127.0.0.1", "SOCKET_PORT=0", "SOCKET_RATE_LIMIT=0", "SOCKET_DEMO=on",
		"SOCKET_PING_INTERVAL=" + e.PingInterval.String(), "SOCKET_PING_TIMEOUT=" + e.PingTimeout.String(),
		"LOG_LEVEL=info",
	}
	if e.SendBuffer > 0 {
		sockEnv = append(sockEnv, "SOCKET_SEND_BUFFER="+strconv.FormatInt(e.SendBuffer, 10))
	}
	switch kind {
	case kindSockside:
		argv = []string{filepath.Join(e.BinDir, "sockside")}
		env = append(append(env, sockEnv...), "SOCKET_RECOVERY_WINDOW=0")
	case kindRecovery:
		argv = []string{filepath.Join(e.BinDir, "sockside")}
		env = append(append(env, sockEnv...), "SOCKET_RECOVERY_WINDOW=2m")
	case kindPprof:
		argv = []string{e.SelfExe, "-serve"}
		env = append(append(env, sockEnv...), "SOCKET_RECOVERY_WINDOW=0", "BENCH_CPUPROFILE="+e.ProfilePath)
	case kindNode:
		argv = []string{"node", filepath.Join(nodeDir, "server.js")}
		env = append(env, "HOST=127.0.0.1", "PORT=0",
			"PING_INTERVAL_MS="+strconv.FormatInt(e.PingInterval.Milliseconds(), 10),
			"PING_TIMEOUT_MS="+strconv.FormatInt(e.PingTimeout.Milliseconds(), 10))
	}
	if e.Pin != "" {
		argv = append([]string{"taskset", "-c", e.Pin}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	cmd.Dir = dir // no stray .env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	tail := &tailBuffer{}
	lines := make(chan string, 64)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	errp, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	scan := func(r io.Reader) {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			tail.add(sc.Text())
			select {
			case lines <- sc.Text():
			default:
			}
		}
	}
	go scan(out)
	go scan(errp)
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	s := &server{Kind: kind, PID: cmd.Process.Pid, cmd: cmd, stderr: tail}
	s.stop = func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
		_ = os.RemoveAll(dir)
	}
	deadline := time.After(30 * time.Second)
	for s.Addr == "" || (kind == kindPprof && s.PprofAddr == "") {
		select {
		case l := <-lines:
			if m := listenRE.FindStringSubmatch(l); m != nil {
				s.Addr = m[1]
			}
			if m := pprofRE.FindStringSubmatch(l); m != nil {
				s.PprofAddr = m[1]
			}
		case <-exited:
			s.stop()
			return nil, fmt.Errorf("%s exited at start-up:\n%s", kind, tail.String())
		case <-deadline:
			s.stop()
			return nil, fmt.Errorf("%s did not listen within 30s:\n%s", kind, tail.String())
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		}
	}
	return s, nil
}

// Stop kills the server (and anything it started) and waits for it.
func (s *server) Stop() {
	if s != nil && s.stop != nil {
		s.stop()
	}
}

// cleanEnv is the environment without any server setting of ours, so
// nothing from the caller's shell leaks into a run.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "SOCKET_") || strings.HasPrefix(k, "REDIS_") || strings.HasPrefix(k, "FEED_") ||
			k == "LOG_LEVEL" || k == "PORT" || k == "HOST" || k == "NODE_OPTIONS" || k == "GOMAXPROCS" || k == "GOGC" {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// procStats reads a process's resident memory (bytes) and CPU time.
func procStats(pid int) (rss int64, cpu time.Duration, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	// Fields after the command name (which may hold spaces) in parentheses.
	i := bytes.LastIndexByte(b, ')')
	f := strings.Fields(string(b[i+2:]))
	// f[0] is field 3 (state): utime is field 14, stime 15, rss 24 (pages).
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	pages, _ := strconv.ParseInt(f[21], 10, 64)
	const clkTck = 100 // USER_HZ on Linux
	return pages * int64(os.Getpagesize()), time.Duration(ut+st) * time.Second / clkTck, nil
}

// goroutines scrapes go_goroutines from a sockside /metrics; NaN for Node.
func goroutines(s *server) float64 {
	v, found, err := scrapeMetric(s, "go_goroutines")
	if err != nil || !found {
		return nan
	}
	return v
}

// metricsClient bounds a scrape: the slow scenario scrapes while the server
// is under load, and a stuck scrape must not hold a scenario up.
var metricsClient = &http.Client{Timeout: 10 * time.Second}

// scrapeMetric reads one sample, named with its labels as exposed (e.g.
// `sockside_dropped_total{reason="slow_consumer"}`), from a sockside
// /metrics. found is false when the server does not expose it (a labelled
// counter appears only once incremented); err is set for Node, which has
// no /metrics, and when the scrape fails.
func scrapeMetric(s *server, name string) (v float64, found bool, err error) {
	if s.Kind == kindNode {
		return 0, false, errors.New("node has no /metrics")
	}
	resp, err := metricsClient.Get("http://" + s.Addr + "/metrics")
	if err != nil {
		return 0, false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, false, fmt.Errorf("GET /metrics: HTTP %d", resp.StatusCode)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return 0, false, fmt.Errorf("/metrics: %s: %w", name, err)
			}
			return f, true, nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, false, fmt.Errorf("reading /metrics: %w", err)
	}
	return 0, false, nil
}

// tailBuffer keeps the last lines a server printed, for error messages.
type tailBuffer struct {
	mu    sync.Mutex
	lines []string
}

func (t *tailBuffer) add(l string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lines = append(t.lines, l)
	if len(t.lines) > 40 {
		t.lines = t.lines[len(t.lines)-40:]
	}
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.Join(t.lines, "\n")
}

// serveInProcess is the -serve mode: sockside with the demo namespaces (what
// ./server serves with SOCKET_DEMO=on) plus net/http/pprof on a second port, so a
// CPU profile of the server alone can be taken during a scenario.
func serveInProcess() error {
	cfg, err := config.Load(os.LookupEnv)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	pln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	go func() { _ = http.Serve(pln, mux) }()
	log.Info("pprof listening", "addr", pln.Addr().String())
	// SIGUSR1 starts a CPU profile into $BENCH_CPUPROFILE, SIGUSR2 ends it:
	// the bench brackets exactly the scenario it wants profiled.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGUSR1, syscall.SIGUSR2)
	go func() {
		var f *os.File
		for sig := range sigs {
			switch {
			case sig == syscall.SIGUSR1 && f == nil:
				f, err = os.Create(os.Getenv("BENCH_CPUPROFILE"))
				if err == nil {
					err = rpprof.StartCPUProfile(f)
				}
				if err != nil {
					log.Error("cpu profile", "err", err)
					f = nil
				}
			case sig == syscall.SIGUSR2 && f != nil:
				rpprof.StopCPUProfile()
				_ = f.Close()
				f = nil
				log.Info("cpu profile written")
			}
		}
	}()
	srv, stopDemo, err := demoServer(cfg, log)
	if err != nil {
		return err
	}
	defer stopDemo()
	ln, err := net.Listen("tcp", cfg.Addr())
	if err != nil {
		return err
	}
	return srv.Serve(ln)
}

// demoServer is sockside serving the demo namespaces, whose echo, chat
// and feed the scenarios drive; stop ends the demo's background work.
func demoServer(cfg config.Config, log *slog.Logger) (srv *sockside.Server, stop func(), err error) {
	cfg.Demo = true
	srv, err = sockside.New(cfg, sockside.WithLogger(log))
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := namespaces.RegisterAll(ctx, srv)
	return srv, func() { cancel(); <-done }, nil
}

// startInProcess runs sockside's app inside this process (for the smoke
// test): no pinning, no RSS or CPU figures.
func startInProcess(cfg config.Config) (*server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, stopDemo, err := demoServer(cfg, log)
	if err != nil {
		return nil, err
	}
	done := make(chan error, 1)
	go func() { done <- a.Serve(ln) }()
	s := &server{Kind: kindSockside, Addr: ln.Addr().String()}
	s.stop = func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = a.Shutdown(ctx)
		stopDemo()
		if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
			logf("in-process server: %v", err)
		}
	}
	return s, nil
}

// fetchHeapProfile writes the -serve server's heap profile, taken after a
// GC, to path, and its goroutines, grouped by stack, to path.goroutines.txt.
func fetchHeapProfile(s *server, path string) error {
	for _, f := range []struct{ query, path string }{
		{"heap?gc=1", path},
		{"goroutine?debug=1", path + ".goroutines.txt"},
	} {
		if err := fetchProfile(s, f.query, f.path); err != nil {
			return err
		}
	}
	return nil
}

func fetchProfile(s *server, query, path string) error {
	resp, err := http.Get("http://" + s.PprofAddr + "/debug/pprof/" + query)
	if err != nil {
		return fmt.Errorf("profile %s: %w", query, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("profile %s: HTTP %d", query, resp.StatusCode)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("profile %s: %w", query, err)
	}
	return os.WriteFile(path, b, 0o644)
}
