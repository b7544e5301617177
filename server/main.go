// Command server runs sockside: the Socket.IO server on the side port,
// configured from the environment and .env (see docs/configuration.md).
// With SOCKET_DEMO=on it serves the demo's namespaces (package namespaces);
// otherwise none of its own, for applications that embed the package
// instead (examples/embed).
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/sockside/sockside"
	"github.com/sockside/sockside/config"
	"github.com/sockside/sockside/hooks"
	"github.com/sockside/sockside/namespaces"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "sockside:", err)
		os.Exit(1)
	}
}

func run() error {
	printTable := flag.Bool("config-table", false, "print the configuration table (Markdown) and exit")
	flag.Parse()
	if *printTable {
		fmt.Print(config.Table())
		return nil
	}
	cfg, err := config.FromEnvironment(".env")
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	for _, w := range append(cfg.Warnings(), config.UnknownVariables(".env")...) {
		log.Warn(w)
	}
	srv, err := sockside.New(cfg, sockside.WithLogger(log))
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	var demoDone <-chan struct{} // closes when the demo's background work has stopped
	if cfg.Demo {
		demoDone = namespaces.RegisterAll(ctx, srv)
	}
	if cfg.HooksURL != "" {
		// After the Go namespaces: by default the hooks take every other one.
		o := hooks.FromConfig(cfg)
		o.Logger = log
		h, err := hooks.Register(srv, o)
		if err != nil {
			return err
		}
		defer h.Close()
		log.Info("hooks on", "url", cfg.HooksURL, "namespaces", hookNamespaces(cfg.HooksNamespaces))
	} else if !cfg.Demo {
		log.Info("no namespace of the server's own (SOCKET_DEMO=on serves the demo's, SOCKET_HOOKS_URL the app's)")
	}
	// After the first signal, a second one kills the process the default way.
	context.AfterFunc(ctx, stop)
	if err := srv.Run(ctx); err != nil {
		return err
	}
	if demoDone != nil {
		<-demoDone
	}
	log.Info("stopped")
	return nil
}

// hookNamespaces names what the hooks serve, for the start-up line.
func hookNamespaces(listed []string) string {
	if len(listed) == 0 {
		return "every namespace without Go code"
	}
	return strings.Join(listed, ",")
}
