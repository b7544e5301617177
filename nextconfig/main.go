// Command nextconfig wires a Next.js app to the sockside server through
// Next's own rewrite table: no custom Next server, no patched
// node_modules. Next's rewrite proxy then carries both long-polling and
// the websocket upgrade of /socket.io/ to the server's side port, in
// `next dev`, `next start` and the standalone server.js.
//
// It renders the model in package rewrite for the app's Next version into
// a config plugin (withSocketIO), the trailing-slash middleware or proxy
// that the plugin needs, and optionally an instrumentation hook that starts
// the server with Next. Run it from the folder the server runs in, where
// the server reads its .env: in a Next app's own folder, outside sockside's
// checkout (its templates are built in; it reads nothing of the checkout),
//
//	go run github.com/sockside/sockside/nextconfig@VERSION -dir . -write-config
//
// (-write-config wraps the app's own next.config export in withSocketIO
// when that edit is mechanical; without it, the run prints the edit as a
// "to do" and exits 3), and to have next dev start the server too, from a
// binary in the app's bin/ (-spawn takes a path from the app's folder, or
// an absolute one):
//
//	GOBIN="$PWD/bin" go install github.com/sockside/sockside/server@VERSION
//	go run github.com/sockside/sockside/nextconfig@VERSION -dir . -write-config -spawn bin/server
//
// or at the root of sockside's checkout, for its demo app:
//
//	go run ./nextconfig -dir web
//
// Generated files start with a "Code generated ... DO NOT EDIT." line and
// the command that regenerates them (VERSION included: pin it, or -check
// fails after each release until the files are regenerated), and are
// rewritten on every run; the app's own files are never overwritten (but
// for -write-config's edit). A change an app's own file still needs is a
// "to do": the run prints it, ends with a "not wired yet: ..." line saying
// how to finish, and exits 3; -check exits 1 until it is done.
package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
)

func main() {
	wd, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, "nextconfig:", err)
		os.Exit(1)
	}
	bi, _ := debug.ReadBuildInfo()
	os.Exit(run(os.Args[1:], wd, selfCommand(bi, isCheckoutRoot(wd)), os.Stdout, os.Stderr))
}

// modulePath is sockside's Go module, which nextconfig is a package of.
const modulePath = "github.com/sockside/sockside"

// selfCommand is how the generated files' headers and -check say to run
// nextconfig again: in sockside's checkout, go run ./nextconfig (what the
// demo app's headers and the Makefile's -check use, whichever build wrote
// them); elsewhere, go run of the module version this build is, which
// works from any folder; a development build outside the checkout knows
// no such version, and is named by its name alone.
func selfCommand(bi *debug.BuildInfo, atCheckoutRoot bool) string {
	if atCheckoutRoot {
		return "go run ./nextconfig"
	}
	if v := moduleVersion(bi); v != "" {
		return "go run " + modulePath + "/nextconfig@" + v
	}
	return "nextconfig"
}

// moduleVersion is the version of sockside's module in the build, when it
// is one that go run can fetch: not "(devel)", not replaced, and without
// "+dirty" (a build of a modified checkout).
func moduleVersion(bi *debug.BuildInfo) string {
	if bi == nil {
		return ""
	}
	m := &bi.Main
	if m.Path != modulePath {
		// Built as a dependency of the app's own module (go tool, go run).
		m = nil
		for _, d := range bi.Deps {
			if d.Path == modulePath {
				m = d
				break
			}
		}
	}
	if m == nil || m.Replace != nil || !strings.HasPrefix(m.Version, "v") || strings.Contains(m.Version, "+") {
		return ""
	}
	return m.Version
}

// isCheckoutRoot reports whether dir is the root of sockside's module,
// where go run ./nextconfig works.
func isCheckoutRoot(dir string) bool {
	f, err := os.Open(filepath.Join(dir, "go.mod"))
	if err != nil {
		return false
	}
	defer f.Close()
	lines := bufio.NewScanner(f)
	for lines.Scan() {
		if path, ok := strings.CutPrefix(strings.TrimSpace(lines.Text()), "module "); ok {
			return strings.Trim(strings.TrimSpace(path), `"`) == modulePath
		}
	}
	return false
}
