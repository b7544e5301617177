package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sockside/sockside/rewrite"
)

// nodePath returns node's path, skipping the test when node is missing:
// these tests check the generated JavaScript beyond its golden text.
func nodePath(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	return node
}

// runNode runs a script under testdata/node with args and stdin, decoding
// its standard output from JSON into out.
func runNode(t *testing.T, node, script string, stdin []byte, out any, args ...string) {
	t.Helper()
	cmd := nodeCommand(t, node, script, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	decodeNode(t, cmd, script, out)
}

// nodeCommand is node running a script under testdata/node with args,
// bounded in time.
func nodeCommand(t *testing.T, node, script string, args ...string) *exec.Cmd {
	t.Helper()
	path, err := filepath.Abs(filepath.Join("testdata", "node", script))
	if err != nil {
		t.Fatal(err)
	}
	return boundedCommand(t, node, append([]string{"--experimental-vm-modules", "--no-warnings", path}, args...)...)
}

// boundedCommand is exec.Command, killed (with its process group, by
// runGroup) when the test ends or after two minutes.
func boundedCommand(t *testing.T, name string, args ...string) *exec.Cmd {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.WaitDelay = 10 * time.Second
	return cmd
}

// decodeNode runs cmd, a node script, decoding its standard output from
// JSON into out.
func decodeNode(t *testing.T, cmd *exec.Cmd, script string, out any) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := runGroup(cmd); err != nil {
		t.Fatalf("node %s: %v\n%s", script, err, stderr.String())
	}
	if err := json.Unmarshal(stdout.Bytes(), out); err != nil {
		t.Fatalf("node %s printed %q: %v\n%s", script, stdout.String(), err, stderr.String())
	}
}

// TestGeneratedJavaScriptParses checks the syntax of every JavaScript
// file in the goldens, in one node process.
func TestGeneratedJavaScriptParses(t *testing.T) {
	node := nodePath(t)
	var files []string
	err := filepath.WalkDir(filepath.Join("testdata", "golden"), func(path string, d fs.DirEntry, err error) error {
		switch filepath.Ext(path) {
		case ".js", ".mjs", ".cjs":
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no JavaScript in the goldens")
	}
	var syntaxErrors map[string]string
	runNode(t, node, "check.mjs", nil, &syntaxErrors, files...)
	for file, msg := range syntaxErrors {
		t.Errorf("%s: %s", file, msg)
	}
}

// TestPluginInNode calls the ESM and CommonJS withSocketIO on configs of
// every shape and compares the result with the model, for a Next release
// that reads allowedDevOrigins and one that does not.
func TestPluginInNode(t *testing.T) {
	node := nodePath(t)
	s := settings{
		socketPath: "/socket.io/", target: "http://127.0.0.1:3001",
		pingInterval: 40 * time.Second, pingTimeout: 20 * time.Second, command: "test",
	}
	type rules = []rewrite.Rule
	socket := rewrite.Rules(s.socketPath, s.target)
	own := rules{{Source: "/old/:slug", Destination: "/new/:slug"}}
	groups := func(before, after, fallback rules) map[string]rules {
		return map[string]rules{"beforeFiles": before, "afterFiles": after, "fallback": fallback}
	}
	for _, version := range []rewrite.Version{{Major: 16, Minor: 4, Patch: 6}, {Major: 15, Minor: 2, Patch: 2}} {
		// The hosts withSocketIO adds after the config's own (nil: none, the
		// key is left as it was).
		devOriginsAfter := func(own ...string) []string {
			if !devOrigins(version) {
				return own
			}
			for _, host := range []string{"127.0.0.1", "localhost"} {
				if !slices.Contains(own, host) {
					own = append(own, host)
				}
			}
			return own
		}
		config := func(trailingSlash string, experimental map[string]any, rewrites map[string]rules) map[string]any {
			return map[string]any{
				"skipTrailingSlashRedirect": true,
				"env":                       map[string]string{"SOCKSIDE_TRAILING_SLASH": trailingSlash},
				"experimental":              experimental,
				"allowedDevOrigins":         devOriginsAfter(),
				"rewrites":                  rewrites,
			}
		}
		ours := map[string]any{"proxyTimeout": rewrite.ProxyTimeout(s.pingInterval, s.pingTimeout).Milliseconds()}
		merged := config("true", map[string]any{"proxyTimeout": 120000, "other": true}, groups(socket, rules{}, rules{}))
		merged["env"] = map[string]string{"A": "b", "SOCKSIDE_TRAILING_SLASH": "true"}
		withOrigins := config("false", ours, groups(socket, rules{}, rules{}))
		withOrigins["allowedDevOrigins"] = devOriginsAfter("dev.example", "localhost")
		want := map[string]any{
			"none":         config("false", ours, groups(socket, rules{}, rules{})),
			"array":        config("false", ours, groups(socket, own, rules{})),
			"groups":       config("false", ours, groups(append(socket, own...), rules{}, own)),
			"syncFunction": config("false", ours, groups(socket, own, rules{})),
			"merged":       merged,
			"devOrigins":   withOrigins,
			"target":       groups(rewrite.Rules(s.socketPath, "http://other:9"), rules{}, rules{}),
			"phase":        map[string]any{"distDir": "phase-production-build", "reactStrictMode": true, "rewrites": groups(socket, rules{}, rules{})},
			"conflict":     "withSocketIO: the config already rewrites /socket.io/:path*; remove that rule, withSocketIO routes /socket.io/ itself",
		}
		var wantJSON any
		data, _ := json.Marshal(want)
		if err := json.Unmarshal(data, &wantJSON); err != nil {
			t.Fatal(err)
		}

		for _, configName := range []string{"next.config.mjs", "next.config.js"} {
			f := pluginFile(pluginFor(configName, false), version, s)
			path := filepath.Join(t.TempDir(), f.name)
			writeFile(t, path, string(f.data))
			var got any
			runNode(t, node, "plugin.mjs", nil, &got, path)
			if !reflect.DeepEqual(got, wantJSON) {
				gotText, _ := json.MarshalIndent(got, "", "  ")
				wantText, _ := json.MarshalIndent(wantJSON, "", "  ")
				t.Errorf("Next %s, %s behaves differently from the model:\n%s", version, f.name, unifiedDiff("model", f.name, wantText, gotText))
			}
		}
	}
}

// TestTrailingSlashInNode runs the generated trailing-slash helper (as
// rendered for Next 15 and 16) on requests whose answers the model gives,
// and the generated matcher on their paths. The redirect is absolute, on
// the browser's origin, for every version: Next answers a relative
// middleware/proxy Location with 500.
func TestTrailingSlashInNode(t *testing.T) {
	node := nodePath(t)
	const socketPath = "/socket.io/"
	paths := []string{
		"/", "/about", "/about/", "/a/b/", "/about//", "/file.txt", "/file.txt/", "/dir/archive.tar.gz/",
		"/.htaccess/", "/v1.", "/.well-known", "/.well-known/x", "/socket.io", "/socket.io/", "/socket.io/x/",
		"//evil.example/", "//evil.example", "/%2F%2Fevil.example/", "/_next/static/x.js",
	}
	type request struct {
		URL           string            `json:"url"`
		Headers       map[string]string `json:"headers"`
		TrailingSlash bool              `json:"trailingSlash"`
	}
	type answer struct {
		Status   int    `json:"status"`
		Location string `json:"location"`
		Matched  bool   `json:"matched"`
	}
	// The browser's origin, as the helper rebuilds it from the headers.
	origins := []struct {
		headers map[string]string
		origin  string
	}{
		{map[string]string{"host": "localhost:3000", "x-forwarded-host": "app.example.com, proxy", "x-forwarded-proto": "https"}, "https://app.example.com"},
		{map[string]string{"host": "app.example.com:8080"}, "http://app.example.com:8080"},
	}
	var requests []request
	var want []answer
	var wantOrigins []string
	for _, path := range paths {
		for _, trailingSlash := range []bool{false, true} {
			for _, o := range origins {
				requests = append(requests, request{"http://localhost:3000" + path + "?a=1", o.headers, trailingSlash})
				a := answer{Matched: !rewrite.Exempt(socketPath, path) && !strings.HasPrefix(path, "/_next/")}
				if loc, ok := rewrite.TrailingSlashRedirect(socketPath, path, trailingSlash); ok {
					a.Status, a.Location = 308, loc+"?a=1"
				}
				want = append(want, a)
				wantOrigins = append(wantOrigins, o.origin)
			}
		}
	}
	stdin, _ := json.Marshal(requests)

	for _, version := range []rewrite.Version{{Major: 15, Minor: 5, Patch: 29}, {Major: 16, Minor: 4, Patch: 6}} {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "node_modules", "next", "package.json"),
			`{"name": "next", "type": "module", "exports": {"./server": "./server.mjs"}}`)
		stub, err := os.ReadFile(filepath.Join("testdata", "node", "next-server.mjs"))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, "node_modules", "next", "server.mjs"), string(stub))
		f := trailingSlashFile(nextApp{version: version}, settings{socketPath: socketPath, command: "test"}, "proxy")
		helper := filepath.Join(dir, "helper.mjs")
		writeFile(t, helper, string(f.data))

		var got []answer
		runNode(t, node, "trailing-slash.mjs", stdin, &got, helper, rewrite.Matcher(socketPath))
		if len(got) != len(want) {
			t.Fatalf("Next %s: %d answers for %d requests", version, len(got), len(want))
		}
		for i, w := range want {
			if w.Location != "" {
				w.Location = wantOrigins[i] + w.Location
			}
			if got[i] != w {
				t.Errorf("Next %s, %s (trailingSlash %v, headers %v): got %+v, want %+v",
					version, requests[i].URL, requests[i].TrailingSlash, requests[i].Headers, got[i], w)
			}
		}
	}
}

// TestStartSocksideInNode calls the generated startSockside with a stand-in
// server that prints where it runs: the binary is -spawn's path from the
// app's folder (where Next runs), or absolute; the server runs in the
// folder nextconfig ran in, whose .env it read.
func TestStartSocksideInNode(t *testing.T) {
	node := nodePath(t)
	if runtime.GOOS == "windows" {
		t.Skip("the stand-in server is a shell script")
	}
	const standIn = "#!/bin/sh\nprintf '{\"cwd\": \"%s\", \"command\": \"%s\"}\\n' \"$(pwd -P)\" \"$0\"\n"
	root := newApp(t, next16())
	app := filepath.Join(root, "web")
	elsewhere := filepath.Join(t.TempDir(), "sockside")
	for _, bin := range []string{filepath.Join(app, "bin", "sockside"), filepath.Join(root, "server", "sockside"), elsewhere} {
		writeFile(t, bin, standIn)
		if err := os.Chmod(bin, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		wd, spawn string
		binary    string // what Next starts
	}{
		{root, "bin/sockside", filepath.Join(app, "bin", "sockside")},
		{root, "../server/sockside", filepath.Join(root, "server", "sockside")},
		{app, "bin/sockside", filepath.Join(app, "bin", "sockside")},
		{app, elsewhere, elsewhere},
	} {
		dir := "web"
		if tc.wd == app {
			dir = "."
		}
		mustRun(t, tc.wd, "-dir", dir, "-spawn", tc.spawn)
		starter, err := os.ReadFile(filepath.Join(app, "start-sockside.js"))
		if err != nil {
			t.Fatal(err)
		}
		module := filepath.Join(t.TempDir(), "start-sockside.mjs")
		writeFile(t, module, string(starter))

		cmd := nodeCommand(t, node, "start.mjs", module)
		cmd.Dir = app
		cmd.Env = append(os.Environ(), "NEXT_PHASE=", "SOCKSIDE_STARTED=")
		var got struct{ Cwd, Command string }
		decodeNode(t, cmd, "start.mjs", &got)
		wantCwd, _ := filepath.EvalSymlinks(tc.wd)
		if got.Cwd != wantCwd || got.Command != tc.binary {
			t.Errorf("run in %s with -spawn %s: the server ran as %s in %s, want %s in %s", tc.wd, tc.spawn, got.Command, got.Cwd, tc.binary, wantCwd)
		}
	}
}

// TestNextConfigInNode loads the next.config created for a new app: its
// rewrites go to SOCKET_INTERNAL_URL when it is set (and not empty), else
// to the generated target, and next dev serves its resources to the page
// on 127.0.0.1 as well as on localhost.
func TestNextConfigInNode(t *testing.T) {
	node := nodePath(t)
	root := newApp(t, next16())
	mustRun(t, root)
	config := filepath.Join(root, "web", "next.config.mjs")
	for internal, target := range map[string]string{
		"http://sockside:4000/": "http://sockside:4000",
		"":                      "http://127.0.0.1:3001",
	} {
		cmd := nodeCommand(t, node, "config.mjs", config)
		cmd.Env = append(os.Environ(), "SOCKET_INTERNAL_URL="+internal)
		var got struct {
			AllowedDevOrigins []string
			Rewrites          struct{ BeforeFiles []rewrite.Rule }
		}
		decodeNode(t, cmd, "config.mjs", &got)
		if want := rewrite.Rules("/socket.io/", target); !reflect.DeepEqual(got.Rewrites.BeforeFiles, want) {
			t.Errorf("SOCKET_INTERNAL_URL=%q: rewrites %v, want %v", internal, got.Rewrites.BeforeFiles, want)
		}
		if want := []string{"127.0.0.1", "localhost"}; !reflect.DeepEqual(got.AllowedDevOrigins, want) {
			t.Errorf("allowedDevOrigins %v, want %v", got.AllowedDevOrigins, want)
		}
	}
}

// installedNext returns the node_modules of sockside's demo app (web/),
// where Next and TypeScript are installed, and that Next's version; it
// skips the test when they are not (make web/node_modules installs them).
func installedNext(t *testing.T) (string, rewrite.Version) {
	t.Helper()
	modules, err := filepath.Abs(filepath.Join("..", "web", "node_modules"))
	if err != nil {
		t.Fatal(err)
	}
	pkg, err := readPackageJSON(filepath.Join(modules, "next", "package.json"))
	if err != nil || !exists(filepath.Join(modules, "typescript", "bin", "tsc")) {
		t.Skip("next and typescript are not installed in web/node_modules (make web/node_modules)")
	}
	v, err := rewrite.ParseVersion(pkg.Version)
	if err != nil {
		t.Fatal(err)
	}
	return modules, v
}

// linkModules makes modules the node_modules of dir.
func linkModules(t *testing.T, dir, modules string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(modules, filepath.Join(dir, "node_modules")); err != nil {
		t.Skip("cannot link node_modules:", err)
	}
}

// goldenApp lays out the app of a golden case in dir as the run left it:
// the fixture's web/ with the golden's web/ over it. It returns the case
// and the golden's files (slash paths in the app).
func goldenApp(t *testing.T, name, dir string) (fixtureCase, []string) {
	t.Helper()
	c := readCase(t, filepath.Join("testdata", "fixtures", name, "case.txt"))
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("testdata", "fixtures", name, "web"))); err != nil {
		t.Fatal(err)
	}
	var files []string
	for file, data := range snapshot(t, filepath.Join("testdata", "golden", name, "web")) {
		writeFile(t, filepath.Join(dir, filepath.FromSlash(file)), data)
		files = append(files, file)
	}
	slices.Sort(files)
	return c, files
}

// TestGeneratedCodeTypeChecks runs tsc, strict, on every file the golden
// runs wrote for the installed Next's major version (TypeScript, and
// JavaScript by its JSDoc types), against that Next's own types.
func TestGeneratedCodeTypeChecks(t *testing.T) {
	node := nodePath(t)
	modules, installed := installedNext(t)
	root := t.TempDir()
	linkModules(t, root, modules)
	fixtures, err := os.ReadDir(filepath.Join("testdata", "fixtures"))
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, f := range fixtures {
		c, written := goldenApp(t, f.Name(), filepath.Join(root, f.Name()))
		if v, err := rewrite.ParseVersion(c.next); err != nil || v.Major != installed.Major {
			continue
		}
		for _, file := range written {
			switch path.Ext(file) {
			case ".ts", ".mjs", ".cjs", ".js":
				files = append(files, f.Name()+"/"+file)
			}
		}
	}
	if len(files) == 0 {
		t.Fatalf("no golden case for Next %d", installed.Major)
	}
	tsconfig, _ := json.MarshalIndent(map[string]any{
		"compilerOptions": map[string]any{
			"target": "ES2017", "lib": []string{"dom", "dom.iterable", "esnext"}, "module": "esnext", "moduleResolution": "bundler",
			"strict": true, "noEmit": true, "esModuleInterop": true, "isolatedModules": true, "resolveJsonModule": true,
			"skipLibCheck": true, "allowJs": true, "checkJs": true, "types": []string{"node"},
		},
		"files": files,
	}, "", "  ")
	writeFile(t, filepath.Join(root, "tsconfig.json"), string(tsconfig))
	cmd := boundedCommand(t, node, filepath.Join(modules, "typescript", "bin", "tsc"), "-p", filepath.Join(root, "tsconfig.json"))
	cmd.Dir = root
	if out, err := combined(cmd); err != nil {
		t.Errorf("tsc on %d files of the Next %d goldens: %v\n%s", len(files), installed.Major, err, out)
	}
}

// TestNextLoadsConfig loads next.config as the installed Next's next dev
// does, for a fresh create-next-app app wired with -write-config, an app
// whose next.config nextconfig created, and an app with dev origins of its
// own: Next warns about nothing, the rewrites go to SOCKET_INTERNAL_URL
// when it is set, and allowedDevOrigins has 127.0.0.1 and localhost after
// the app's own hosts.
func TestNextLoadsConfig(t *testing.T) {
	node := nodePath(t)
	modules, installed := installedNext(t)
	if !devOrigins(installed) {
		t.Skipf("Next %s does not read allowedDevOrigins", installed)
	}
	ownOrigins := t.TempDir()
	writeFile(t, filepath.Join(ownOrigins, "package.json"), `{"dependencies": {"next": "`+installed.String()+`"}}`)
	writeFile(t, filepath.Join(ownOrigins, "tsconfig.json"), "{}")
	writeFile(t, filepath.Join(ownOrigins, "next.config.ts"),
		"import type { NextConfig } from \"next\";\n\nconst nextConfig: NextConfig = {\n  allowedDevOrigins: [\"dev.example\", \"localhost\"],\n};\n\nexport default nextConfig;\n")
	linkModules(t, ownOrigins, modules)
	mustRun(t, ownOrigins, "-dir", ".", "-write-config")

	apps := map[string]string{"the app's own dev origins": ownOrigins}
	origins := map[string][]string{"the app's own dev origins": {"dev.example", "localhost", "127.0.0.1"}}
	for _, name := range []string{"next16-ts-cjs-create-next-app-write-config", "next16-ts-esm-fresh"} {
		dir := filepath.Join(t.TempDir(), "app")
		if c, _ := goldenApp(t, name, dir); c.next != installed.String() {
			t.Fatalf("%s is for Next %s, the installed one is %s", name, c.next, installed)
		}
		linkModules(t, dir, modules)
		apps[name], origins[name] = dir, []string{"127.0.0.1", "localhost"}
	}
	for name, dir := range apps {
		for internal, target := range map[string]string{"": "http://127.0.0.1:3001", "http://sockside:4000/": "http://sockside:4000"} {
			cmd := nodeCommand(t, node, "load-config.mjs", dir)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "NEXT_TELEMETRY_DISABLED=1", "SOCKET_INTERNAL_URL="+internal)
			var got struct {
				Warnings                  []string
				AllowedDevOrigins         []string
				SkipTrailingSlashRedirect bool
				Rewrites                  struct{ BeforeFiles []rewrite.Rule }
			}
			decodeNode(t, cmd, "load-config.mjs", &got)
			if len(got.Warnings) > 0 {
				t.Errorf("%s: Next %s warned:\n%s", name, installed, strings.Join(got.Warnings, "\n"))
			}
			if !reflect.DeepEqual(got.AllowedDevOrigins, origins[name]) || !got.SkipTrailingSlashRedirect {
				t.Errorf("%s: allowedDevOrigins %q, want %q; skipTrailingSlashRedirect %v", name, got.AllowedDevOrigins, origins[name], got.SkipTrailingSlashRedirect)
			}
			if want := rewrite.Rules("/socket.io/", target); !reflect.DeepEqual(got.Rewrites.BeforeFiles, want) {
				t.Errorf("%s, SOCKET_INTERNAL_URL=%q: rewrites %v, want %v", name, internal, got.Rewrites.BeforeFiles, want)
			}
		}
	}
}
