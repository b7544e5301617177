package main

import (
	"archive/zip"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestOutsideTheCheckout runs nextconfig as a Next app's developer does,
// in the app's own folder with nothing of sockside's checkout around: a
// binary built from this package, and `go run module/nextconfig@version`
// of this module served from a local proxy (no network).
func TestOutsideTheCheckout(t *testing.T) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Fatal("the go command, needed to build nextconfig:", err)
	}

	t.Run("binary", func(t *testing.T) {
		bin := filepath.Join(t.TempDir(), "nextconfig")
		// -buildvcs=false: a development build, which names itself plainly.
		build := boundedCommand(t, goCmd, "build", "-buildvcs=false", "-o", bin, ".")
		if out, err := combined(build); err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
		wireApp(t, []string{bin}, "nextconfig")
	})

	t.Run("go run module@version", func(t *testing.T) {
		if testing.Short() {
			t.Skip("builds the module afresh from a local proxy (a minute the first time)")
		}
		const version = "v0.0.0-20000101000000-000000000000"
		proxy := moduleProxy(t, goCmd, version)
		env := append(os.Environ(),
			"GOFLAGS=-modcacherw -trimpath", // a removable module cache; build cache hits whatever its folder
			"GOMODCACHE="+filepath.Join(t.TempDir(), "mod"),
			// This module from the local proxy, its dependencies from the
			// module cache's own downloads: offline.
			"GOPROXY="+fileURL(proxy)+","+fileURL(filepath.Join(goEnv(t, goCmd, "GOMODCACHE"), "cache", "download")),
			"GOSUMDB=off", "GOPRIVATE=", "GONOPROXY=", "GONOSUMDB=", "GOTOOLCHAIN=local", "GOWORK=off",
		)
		wireApp(t, []string{goCmd, "run", modulePath + "/nextconfig@" + version}, "go run "+modulePath+"/nextconfig@"+version, env...)
	})
}

// wireApp runs command (a program and its first arguments) with -dir .
// -spawn in a fresh Next app and checks what it wrote: every file, headers
// naming self, the -spawn path from the app, then -check passing. env is
// the environment, the test's when empty.
func wireApp(t *testing.T, command []string, self string, env ...string) {
	t.Helper()
	app := t.TempDir()
	writeFile(t, filepath.Join(app, "package.json"), `{"type": "module", "dependencies": {"next": "16.4.6"}}`+"\n")
	writeFile(t, filepath.Join(app, "node_modules", "next", "package.json"), `{"version": "16.4.6"}`+"\n")
	writeFile(t, filepath.Join(app, "bin", "sockside"), "#!/bin/sh\n")
	if err := os.Chmod(filepath.Join(app, "bin", "sockside"), 0o755); err != nil {
		t.Fatal(err)
	}
	nextconfig := func(args ...string) (string, error) {
		cmd := boundedCommand(t, command[0], append(command[1:], args...)...)
		cmd.Dir, cmd.Env = app, env
		return combined(cmd)
	}

	out, err := nextconfig("-dir", ".", "-spawn", "bin/sockside")
	if err != nil {
		t.Fatalf("%s -dir . -spawn bin/sockside: %v\n%s", command, err, out)
	}
	regenerate := "// Regenerate: " + self + " -dir . -spawn bin/sockside\n"
	for _, name := range []string{"with-socket-io.mjs", "socket-io-trailing-slash.js", "proxy.js", "start-sockside.js", "instrumentation.js"} {
		data, err := os.ReadFile(filepath.Join(app, name))
		if err != nil || !generatedBy(data) || !strings.Contains(string(data), regenerate) {
			t.Errorf("%s: want a generated file with %q (%v):\n%.300s\n%s", name, regenerate, err, data, out)
		}
	}
	for name, want := range map[string]string{
		"next.config.mjs":   "withSocketIO(nextConfig, { target: process.env.SOCKET_INTERNAL_URL || undefined })",
		"start-sockside.js": "const command = resolve(process.cwd(), 'bin/sockside');",
	} {
		if data, _ := os.ReadFile(filepath.Join(app, name)); !strings.Contains(string(data), want) {
			t.Errorf("%s lacks %q:\n%s", name, want, data)
		}
	}
	if out, err := nextconfig("-dir", ".", "-spawn", "bin/sockside", "-check"); err != nil {
		t.Errorf("-check after the run: %v\n%s", err, out)
	}
}

// moduleProxy lays out a GOPROXY folder serving this module at version:
// go.mod, go.sum and the files of the packages nextconfig is built from
// (those of a module zip that the build reads).
func moduleProxy(t *testing.T, goCmd, version string) string {
	t.Helper()
	list := boundedCommand(t, goCmd, "list", "-deps", "-f",
		`{{if and .Module (eq .Module.Path "`+modulePath+`")}}{{.Dir}}{{range .EmbedFiles}}{{"\t"}}{{.}}{{end}}{{end}}`, ".")
	out, err := combined(list)
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	root := filepath.Dir(goEnv(t, goCmd, "GOMOD"))
	files := []string{"go.mod", "go.sum"}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		fields := strings.Split(line, "\t")
		dir, embeds := fields[0], fields[1:]
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		rel, err := filepath.Rel(root, dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.Type().IsRegular() && strings.HasSuffix(e.Name(), ".go") && !strings.HasSuffix(e.Name(), "_test.go") {
				files = append(files, filepath.Join(rel, e.Name()))
			}
		}
		for _, name := range embeds {
			files = append(files, filepath.Join(rel, name))
		}
	}

	var zipped bytes.Buffer
	z := zip.NewWriter(&zipped)
	for _, name := range files {
		data, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			t.Fatal(err)
		}
		w, err := z.Create(modulePath + "@" + version + "/" + filepath.ToSlash(name))
		if err == nil {
			_, err = w.Write(data)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	goMod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	proxy := t.TempDir()
	at := filepath.Join(proxy, filepath.FromSlash(modulePath), "@v")
	writeFile(t, filepath.Join(at, "list"), version+"\n")
	writeFile(t, filepath.Join(at, version+".info"), `{"Version": "`+version+`", "Time": "2000-01-01T00:00:00Z"}`+"\n")
	writeFile(t, filepath.Join(at, version+".mod"), string(goMod))
	writeFile(t, filepath.Join(at, version+".zip"), zipped.String())
	return proxy
}

// combined runs cmd (in its own process group) and returns its output.
func combined(cmd *exec.Cmd) (string, error) {
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := runGroup(cmd)
	return out.String(), err
}

func goEnv(t *testing.T, goCmd, name string) string {
	t.Helper()
	out, err := combined(boundedCommand(t, goCmd, "env", name))
	v := strings.TrimSpace(out)
	if err != nil || v == "" {
		t.Fatalf("go env %s = %q: %v", name, v, err)
	}
	return v
}

// fileURL is the file:// URL of a folder, as GOPROXY takes it.
func fileURL(dir string) string {
	path := filepath.ToSlash(dir)
	if !strings.HasPrefix(path, "/") {
		path = "/" + path // a Windows drive
	}
	return "file://" + path
}
