package namespaces

import (
	"context"
	"log/slog"

	"github.com/sockside/sockside"
	"github.com/sockside/sockside/config"
)

// Declared builds a server that is never served, registers every demo
// namespace on it and returns it, so generators can read the declared
// events. Close it with Shutdown.
func Declared() *sockside.Server {
	srv, err := sockside.New(config.Default(), sockside.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		panic("namespaces: the default config is refused: " + err.Error())
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the feed goroutine exits at once
	<-RegisterAll(ctx, srv)
	return srv
}
