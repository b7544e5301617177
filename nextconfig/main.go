// Command nextconfig wires a Next.js app to the sockside server through
// Next's own rewrite table: no custom Next server, no patched
// node_modules. Next's rewrite proxy then carries both long-polling and
// the websocket upgrade of /socket.io/ to the server's side port, in
// `next dev`, `next start` and the standalone server.js.
//
// It renders the model in package rewrite for the app's Next version into
// a config plugin (withSocketIO), the trailing-slash middleware or proxy
// that the plugin needs, and optionally an instrumentation hook that starts
// the server with Next. Run it from the repository root, where the server
// reads its .env:
//
//	go run ./nextconfig -dir web
//
// Generated files start with a "Code generated ... DO NOT EDIT." line and
// are rewritten on every run; the app's own files are never overwritten.
package main

import (
	"fmt"
	"os"
)

func main() {
	wd, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, "nextconfig:", err)
		os.Exit(1)
	}
	os.Exit(run(os.Args[1:], wd, os.Stdout, os.Stderr))
}
