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
	"slices"
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

	go run github.com/sockside/sockside/nextconfig@VERSION -dir . -write-config
	go run github.com/sockside/sockside/nextconfig@VERSION -dir . -write-config -spawn bin/server

The files it writes name the command, VERSION included: pin it, or -check
fails after each release until they are regenerated. In sockside's
checkout, for its demo app: go run ./nextconfig -dir web

The app's own files are never overwritten, with one exception:
-write-config wraps next.config's export in withSocketIO when that edit is
mechanical (as in a fresh create-next-app app). Any change the app still
needs (without -write-config, that one too) is printed as a "to do", and
the run's last line says how to finish ("not wired yet: run ...
-write-config, or make the edit above to next.config.ts").

Exit status: 0 when the app is wired and its files are up to date; 3 when
the files are written but a "to do" remains: the app is not wired yet
(with -dry-run: when the run would leave one); 1 for an error, and with
-check when files are out of date or the app is not wired yet; 2 for bad
usage. (go run prints "exit status 3" and exits 1 itself.)

`

// Exit statuses besides 0 (done: the app is wired, its files up to date).
const (
	exitFailed   = 1 // an error, or -check found work
	exitUsage    = 2
	exitNotWired = 3 // the files are written, a to-do remains
)

// run is the command, run in the folder wd; self is how to run it again,
// for the generated headers (selfCommand). It returns the exit status.
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
	fs.BoolVar(&o.check, "check", false, "write nothing; print the diff and exit 1 when files are missing or stale,\nor the app is not wired yet (for CI)")
	fs.BoolVar(&o.dryRun, "dry-run", false, "write nothing; print the diff of what would change")
	fs.BoolVar(&o.writeConfig, "write-config", false, "also wrap an existing next.config's export in withSocketIO, when that edit is mechanical\n(without it, the run prints the edit as a to do and exits 3)")
	fs.StringVar(&o.types, "types", "", "also write the TypeScript event maps of the server's namespaces to this `file`\n(relative to -dir, e.g. lib/socket-events.ts); -check then fails when it is stale")
	fs.BoolVar(&o.allowVulnerable, "allow-vulnerable-next", false, "generate even for a Next.js release with the WebSocket-upgrade SSRF "+rewrite.Advisory)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "nextconfig: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return exitUsage
	}
	code, err := generate(o, wd, self, stdout, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "nextconfig:", err)
		return exitFailed
	}
	return code
}

// generate does the work of run and returns its exit status: exitFailed
// when -check finds the app out of date or not wired, exitNotWired when
// the run leaves a to-do.
func generate(o options, wd, self string, stdout, stderr io.Writer) (int, error) {
	cfg, err := config.FromEnvironment(filepath.Join(wd, ".env"))
	if err != nil {
		return exitFailed, fmt.Errorf("the server's settings (environment and ./.env): %w", err)
	}
	target := rewrite.DefaultTarget(cfg.Host, cfg.Port)
	if o.target != "" {
		if target, err = rewrite.ParseTarget(o.target); err != nil {
			return exitFailed, fmt.Errorf("-target: %w", err)
		}
	}
	dir := o.dir
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(wd, dir)
	}
	shown := shownDir(wd, dir)
	app, err := detectApp(dir, shown)
	if err != nil {
		return exitFailed, err
	}
	switch err := app.version.Check(); {
	case errors.Is(err, rewrite.ErrVulnerable) && o.allowVulnerable:
		fmt.Fprintln(stderr, "nextconfig: warning:", err)
	case errors.Is(err, rewrite.ErrVulnerable):
		return exitFailed, fmt.Errorf("%w; upgrade next, or pass -allow-vulnerable-next", err)
	case err != nil:
		return exitFailed, err
	}
	root, err := filepath.Rel(dir, wd)
	if err != nil {
		return exitFailed, fmt.Errorf("-dir: %w", err)
	}
	if o.spawn != "" {
		if err := checkSpawn(o.spawn, dir, wd, stderr); err != nil {
			return exitFailed, err
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
		return exitFailed, err
	}
	if o.types != "" {
		f, err := typesFile(o.types, s.command)
		if err != nil {
			return exitFailed, err
		}
		p.files = append(p.files, f)
	}
	changes, unchanged, err := pending(app, p, o.writeConfig)
	if err != nil {
		return exitFailed, err
	}

	preview := o.check || o.dryRun
	if !preview {
		if err := apply(app, changes); err != nil {
			return exitFailed, err
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
	// The app's own files still to wire: mechanical ones -write-config
	// edits (shown among the changes when it is given), and the others.
	var mechanical, byHand []string
	for _, w := range p.wiring {
		if w.edit != nil {
			mechanical = append(mechanical, app.show(w.file.name))
			if o.writeConfig {
				continue
			}
		} else {
			byHand = append(byHand, app.show(w.file.name))
		}
		printWiring(stdout, app, w)
	}
	if o.check {
		if len(changes)+len(mechanical)+len(byHand) == 0 {
			return 0, nil
		}
		stale := len(changes)
		if o.writeConfig {
			stale -= len(mechanical) // their edits are among the changes
		}
		unwired := append(slices.Clip(mechanical), byHand...)
		status := fmt.Sprintf("%d file(s) out of date, %d not wired yet", stale, len(unwired))
		if len(unwired) > 0 {
			status += " (" + strings.Join(unwired, ", ") + ")"
		}
		fmt.Fprintf(stdout, "nextconfig -check: %s; %s\n", status, nextSteps(s.command, stale > 0, mechanical, byHand))
		return exitFailed, nil
	}
	if o.writeConfig {
		mechanical = nil // the run makes those edits
	}
	code := 0
	if len(mechanical)+len(byHand) > 0 {
		fmt.Fprintf(stdout, "not wired yet: %s\n", nextSteps(s.command, false, mechanical, byHand))
		code = exitNotWired
	}
	if o.dryRun {
		fmt.Fprintln(stdout, "dry run: nothing written")
	}
	return code, nil
}

// nextSteps says what wires the app: run command with -write-config for
// the mechanical edits (or make them by hand), or without it when only
// generated files are out of date (regenerate), and make the changes
// printed above to the files in byHand.
func nextSteps(command string, regenerate bool, mechanical, byHand []string) string {
	var steps []string
	switch {
	case len(mechanical) > 0:
		step := "run " + command + " -write-config"
		alternative := "make the " + plural(len(mechanical), "edit") + " above to " + andList(mechanical)
		if len(byHand) == 0 {
			step += ", or " + alternative
		} else {
			step += " (or " + alternative + ")"
		}
		steps = append(steps, step)
	case regenerate:
		steps = append(steps, "run "+command)
	}
	if len(byHand) > 0 {
		steps = append(steps, "make the "+plural(len(byHand), "change")+" above to "+andList(byHand))
	}
	return strings.Join(steps, " and ")
}

func plural(n int, noun string) string {
	if n == 1 {
		return noun
	}
	return noun + "s"
}

// andList joins names as "a", "a and b", "a, b and c".
func andList(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// printSummary reports what nextconfig found and the rules it wires.
func printSummary(w io.Writer, app nextApp, s settings) {
	lang := "JavaScript"
	if app.typeScript {
		lang = "TypeScript"
	}
	fmt.Fprintf(w, "%s: Next.js %s (%s), %s, %s\n", app.shown, app.version, app.versionFrom, lang, configKind(app))
	for _, r := range rewrite.Rules(s.socketPath, s.target) {
		fmt.Fprintf(w, "rewrite %s -> %s\n", r.Source, r.Destination)
	}
	if t := rewrite.ProxyTimeout(s.pingInterval, s.pingTimeout); t > 0 {
		fmt.Fprintf(w, "experimental.proxyTimeout %d ms, for SOCKET_PING_INTERVAL=%s\n", t.Milliseconds(), s.pingInterval)
	}
}

// configKind names the app's next.config and, where the name does not
// tell, how Node loads it: package.json "type" decides for next.config.js
// only (and so whether withSocketIO is written as .cjs or .mjs);
// next.config.ts is compiled by Next, and .mjs and .mts are ES modules.
func configKind(app nextApp) string {
	switch {
	case app.config == nil:
		return "no next.config yet"
	case app.config.name != "next.config.js":
		return app.config.name
	case app.esm:
		return `next.config.js (ES module: package.json "type": "module")`
	}
	return "next.config.js (CommonJS)"
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
