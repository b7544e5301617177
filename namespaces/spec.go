package namespaces

import (
	"context"
	"log/slog"

	"github.com/sockside/sockside/config"
	"github.com/sockside/sockside/internal/metrics"
	"github.com/sockside/sockside/internal/sio"
)

// Declared builds a server that is never served, registers every namespace
// on it and returns it, so generators can read the declared events.
func Declared() *sio.Server {
	srv := sio.New(sio.Options{Config: config.Default(), Metrics: metrics.New(), Logger: slog.New(slog.DiscardHandler)})
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the feed goroutine exits at once
	<-RegisterAll(ctx, srv)
	return srv
}
