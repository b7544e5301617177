package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/sockside/sockside/config"
	"github.com/sockside/sockside/rewrite"
)

// options are the command line's flags.
type options struct {
	dir             string
	target          string
	spawn           string
	check           bool
	dryRun          bool
	writeConfig     bool
	allowVulnerable bool
	types           string
}

const usage = `usage: nextconfig [flags]

Wires the Next.js app in -dir to the sockside server through Next's rewrite
table. Run it from the folder the server runs in: the socket path, ping
settings and default target come from the server's environment and ./.env.
From a Next app's own folder (it needs nothing of sockside's checkout):

	go run github.com/sockside/sockside/nextconfig@VERSION -dir .
	go run github.com/sockside/sockside/nextconfig@VERSION -dir . -spawn bin/server

The files it writes name the command, VERSION included: pin it, or -check
fails after each release until they are regenerated. In sockside's
checkout, for its demo app: go run ./nextconfig -dir web

`

// run is the command, run in the folder wd; self is how to run it again,
// for the generated headers (selfCommand). It returns the exit status (0
// done, 1 failed or -check found work, 2 bad usage).
func run(args []string, wd, self string, stdout, stderr io.Writer) int {
	var o options
	fs := flag.NewFlagSet("nextconfig", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	fs.StringVar(&o.dir, "dir", "web", "the Next.js app's `folder`")
	fs.StringVar(&o.target, "target", "", "the server's `URL` as Next reaches it, e.g. http://sockside:3001 in docker\n(default http://SOCKET_HOST:SOCKET_PORT from the server's settings)")
	fs.Func("spawn", "also write an instrumentation hook that starts the server `binary` when Next starts,\nso that next dev alone runs both: its path, relative to -dir or absolute; it runs\nin the current folder and reads the .env there", func(s string) error {
		// A flag in its place means the value was left out: -spawn -check.
		if s == "" || strings.HasPrefix(s, "-") {
			return errors.New("want the server binary's path, relative to -dir or absolute")
		}
		o.spawn = s
		return nil
	})
	fs.BoolVar(&o.check, "check", false, "write nothing; print the diff and exit 1 when files are missing or stale (for CI)")
	fs.BoolVar(&o.dryRun, "dry-run", false, "write nothing; print the diff of what would change")
	fs.BoolVar(&o.writeConfig, "write-config", false, "also wrap an existing next.config's export in withSocketIO, when that change is mechanical")
	fs.StringVar(&o.types, "types", "", "also write the TypeScript event maps of the server's namespaces to this `file`\n(relative to -dir, e.g. lib/socket-events.ts); -check then fails when it is stale")
	fs.BoolVar(&o.allowVulnerable, "allow-vulnerable-next", false, "generate even for a Next.js release with the WebSocket-upgrade SSRF "+rewrite.Advisory)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "nextconfig: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return 2
	}
	done, err := generate(o, wd, self, stdout, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "nextconfig:", err)
		return 1
	}
	if !done {
		return 1
	}
	return 0
}

// generate does the work of run. It returns false when -check finds the
// app out of date.
func generate(o options, wd, self string, stdout, stderr io.Writer) (bool, error) {
	cfg, err := config.FromEnvironment(filepath.Join(wd, ".env"))
	if err != nil {
		return false, fmt.Errorf("the server's settings (environment and ./.env): %w", err)
	}
	target := rewrite.DefaultTarget(cfg.Host, cfg.Port)
	if o.target != "" {
		if target, err = rewrite.ParseTarget(o.target); err != nil {
			return false, fmt.Errorf("-target: %w", err)
		}
	}
	dir := o.dir
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(wd, dir)
	}
	shown := shownDir(wd, dir)
	app, err := detectApp(dir, shown)
	if err != nil {
		return false, err
	}
	switch err := app.version.Check(); {
	case errors.Is(err, rewrite.ErrVulnerable) && o.allowVulnerable:
		fmt.Fprintln(stderr, "nextconfig: warning:", err)
	case errors.Is(err, rewrite.ErrVulnerable):
		return false, fmt.Errorf("%w; upgrade next, or pass -allow-vulnerable-next", err)
	case err != nil:
		return false, err
	}
	root, err := filepath.Rel(dir, wd)
	if err != nil {
		return false, fmt.Errorf("-dir: %w", err)
	}
	if o.spawn != "" {
		if err := checkSpawn(o.spawn, dir, wd, stderr); err != nil {
			return false, err
		}
	}
	s := settings{
		socketPath:   cfg.Path,
		target:       target,
		pingInterval: cfg.PingInterval,
		pingTimeout:  cfg.PingTimeout,
		spawn:        filepath.ToSlash(o.spawn),
		root:         filepath.ToSlash(root),
		command:      regenerateCommand(self, o, shown),
	}
	p, err := makePlan(app, s)
	if err != nil {
		return false, err
	}
	if o.types != "" {
		f, err := typesFile(o.types, s.command)
		if err != nil {
			return false, err
		}
		p.files = append(p.files, f)
	}
	changes, unchanged, err := pending(app, p, o.writeConfig)
	if err != nil {
		return false, err
	}

	preview := o.check || o.dryRun
	if !preview {
		if err := apply(app, changes); err != nil {
			return false, err
		}
	}
	printSummary(stdout, app, s)
	for _, c := range changes {
		printChange(stdout, app, c, preview)
	}
	for _, name := range unchanged {
		fmt.Fprintf(stdout, "%-9s %s\n", "unchanged", app.show(name))
	}
	for _, name := range p.wired {
		fmt.Fprintf(stdout, "%-9s %s (the app's own)\n", "wired", app.show(name))
	}
	todo := 0
	for _, w := range p.wiring {
		if !(o.writeConfig && w.edit != nil) {
			printWiring(stdout, app, w)
			todo++
		}
	}
	switch {
	case o.check && len(changes)+todo > 0:
		fmt.Fprintf(stdout, "nextconfig -check: %d file(s) out of date, %d to wire by hand; run %s\n", len(changes), todo, s.command)
		return false, nil
	case o.dryRun:
		fmt.Fprintln(stdout, "dry run: nothing written")
	}
	return true, nil
}

// printSummary reports what nextconfig found and the rules it wires.
func printSummary(w io.Writer, app nextApp, s settings) {
	lang, modules := "JavaScript", "CommonJS"
	if app.typeScript {
		lang = "TypeScript"
	}
	if app.esm {
		modules = "ES modules"
	}
	fmt.Fprintf(w, "%s: Next.js %s (%s), %s, %s\n", app.shown, app.version, app.versionFrom, lang, modules)
	for _, r := range rewrite.Rules(s.socketPath, s.target) {
		fmt.Fprintf(w, "rewrite %s -> %s\n", r.Source, r.Destination)
	}
	if t := rewrite.ProxyTimeout(s.pingInterval, s.pingTimeout); t > 0 {
		fmt.Fprintf(w, "experimental.proxyTimeout %d ms, for SOCKET_PING_INTERVAL=%s\n", t.Milliseconds(), s.pingInterval)
	}
}

// shownDir names the app's folder for the report and the generated
// headers: relative to the working folder when it is inside it.
func shownDir(wd, dir string) string {
	if rel, err := filepath.Rel(wd, dir); err == nil && !strings.HasPrefix(rel, "..") {
		return filepath.ToSlash(rel)
	}
	return filepath.ToSlash(dir)
}

// checkSpawn checks -spawn's binary, a path from the app's folder dir (or
// absolute), before the hook that starts it is written. One that is not
// there yet is only warned about: it may be built after the wiring (and
// -check in CI may run before it is). One that is there relative to the
// working folder wd but not to the app is an error: the path is the app's.
func checkSpawn(spawn, dir, wd string, stderr io.Writer) error {
	path := spawn
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
	}
	shown := shownDir(wd, path)
	info, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if other := filepath.Join(wd, spawn); dir != wd && !filepath.IsAbs(spawn) && exists(other) {
			if rel, err := filepath.Rel(dir, other); err == nil {
				return fmt.Errorf("-spawn %s: no file at %s: the path is relative to -dir (did you mean -spawn %s?)", spawn, shown, shellQuote(filepath.ToSlash(rel)))
			}
		}
		fmt.Fprintf(stderr, "nextconfig: warning: -spawn %s: no file at %s yet: Next cannot start the server until it is built there\n", spawn, shown)
		return nil
	case err != nil:
		return fmt.Errorf("-spawn %s: %w", spawn, err)
	case info.IsDir():
		return fmt.Errorf("-spawn %s: %s is a folder; want the server binary, relative to -dir or absolute", spawn, shown)
	case runtime.GOOS != "windows" && info.Mode().Perm()&0o111 == 0:
		return fmt.Errorf("-spawn %s: %s is not executable", spawn, shown)
	}
	return nil
}

// regenerateCommand is the command line that renders the same files: self
// and the flags that shape them, in a fixed order.
func regenerateCommand(self string, o options, shown string) string {
	args := []string{self, "-dir", shellQuote(shown)}
	if o.target != "" {
		args = append(args, "-target", shellQuote(o.target))
	}
	if o.spawn != "" {
		args = append(args, "-spawn", shellQuote(filepath.ToSlash(o.spawn)))
	}
	if o.types != "" {
		args = append(args, "-types", shellQuote(filepath.ToSlash(o.types)))
	}
	if o.allowVulnerable {
		args = append(args, "-allow-vulnerable-next")
	}
	return strings.Join(args, " ")
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:@%+=,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
