// Command server runs sockside: the Socket.IO server on the side port.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/sockside/sockside/internal/app"
	"github.com/sockside/sockside/config"
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

	a := app.New(cfg, log)
	ln, err := net.Listen("tcp", cfg.Addr())
	if err != nil {
		return fmt.Errorf("listening on %s: %w", cfg.Addr(), err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- a.Serve(ln) }()

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	stop() // a second signal kills the process the default way
	drainCtx, cancel := context.WithTimeout(context.Background(), cfg.DrainTimeout)
	defer cancel()
	if err := a.Shutdown(drainCtx); err != nil {
		log.Error("drain incomplete", "err", err)
	}
	log.Info("stopped")
	return <-served
}
