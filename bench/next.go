package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// The next scenario (on request: -scenarios next): the websocket and the
// long-polling echo straight to sockside and through a real `next start`
// of the demo app (web/), whose rewrite (written by nextconfig) carries
// /socket.io/ to the server, as a browser reaches it same-origin. The
// difference is what Next's proxy costs; sockside does the same work
// either way.
//
// Next bakes the rewrite's destination into the build, so each run builds
// web/ (in place, into web/.next, as the browser tests do) against the
// server it has just started.

// nextStartWait bounds how long `next start` may take to answer.
const nextStartWait = 60 * time.Second

func runNext(ctx context.Context, s *server, webDir string, ep echoParams) (metrics, error) {
	nextBin := filepath.Join(webDir, "node_modules", "next", "dist", "bin", "next")
	if _, err := os.Stat(nextBin); err != nil {
		logf("  installing web/'s packages (npm ci)")
		cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund")
		cmd.Dir = webDir
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("npm ci in web/: %v\n%s", err, out)
		}
	}
	env := append(cleanEnv(), "NEXT_TELEMETRY_DISABLED=1", "SOCKET_INTERNAL_URL=http://"+s.Addr)
	t0 := time.Now()
	build := exec.CommandContext(ctx, "node", nextBin, "build")
	build.Dir, build.Env = webDir, env
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("next build: %v\n%s", err, tail(out))
	}
	logf("  next build against %s: %.0f s", s.Addr, time.Since(t0).Seconds())

	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	start := exec.Command("node", nextBin, "start", "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	start.Dir, start.Env = webDir, append(env, "NODE_ENV=production")
	start.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	logs, err := os.CreateTemp("", "sockside-bench-next-*.log")
	if err != nil {
		return nil, err
	}
	defer os.Remove(logs.Name())
	defer logs.Close()
	start.Stdout, start.Stderr = logs, logs
	if err := start.Start(); err != nil {
		return nil, fmt.Errorf("next start: %w", err)
	}
	defer func() {
		_ = syscall.Kill(-start.Process.Pid, syscall.SIGKILL)
		_ = start.Wait()
	}()
	if err := waitHTTP(ctx, "http://"+addr+"/", nextStartWait); err != nil {
		out, _ := os.ReadFile(logs.Name())
		return nil, fmt.Errorf("next start: %w\n%s", err, tail(out))
	}

	via := *s // the same server, reached through Next: CPU figures stay sockside's
	via.Addr = addr
	m := metrics{}
	for _, r := range []struct {
		prefix, transport string
		target            *server
	}{
		{"ws_direct_", "websocket", s}, {"ws_next_", "websocket", &via},
		{"poll_direct_", "polling", s}, {"poll_next_", "polling", &via},
	} {
		p := ep
		p.Transport = r.transport
		got, err := runEcho(ctx, r.target, p)
		if err != nil {
			return nil, fmt.Errorf("%s echo %s: %w", r.transport, r.prefix, err)
		}
		logf("  %s%s", r.prefix, formatMetrics(got))
		for k, v := range got {
			m[r.prefix+k] = v
		}
	}
	for _, t := range []string{"ws_", "poll_"} {
		if d := m[t+"direct_acks_per_s"]; d > 0 {
			m[t+"next_ratio"] = m[t+"next_acks_per_s"] / d
		}
	}
	return m, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("picking a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitHTTP polls url until it answers 200 or d passes.
func waitHTTP(ctx context.Context, url string, d time.Duration) error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(d)
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("HTTP %d", resp.StatusCode)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer within %v: %w", url, d, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// tail is the end of a command's output, for an error message.
func tail(out []byte) []byte {
	const keep = 4000
	if len(out) > keep {
		return out[len(out)-keep:]
	}
	return out
}
