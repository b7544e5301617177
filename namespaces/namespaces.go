// Package namespaces holds the application's Socket.IO namespaces, one file
// each, each added by one Register function. Their event names and payload
// types are declared through sio.Handle and sio.Emits, which is also what the
// TypeScript event map is generated from.
package namespaces

import (
	"context"

	"github.com/sockside/sockside/internal/sio"
)

// RegisterAll adds every namespace to srv. Background work (the feed) runs
// until ctx ends; the returned channel closes once it has stopped.
func RegisterAll(ctx context.Context, srv *sio.Server) <-chan struct{} {
	RegisterRoot(srv)
	RegisterChat(srv)
	return RegisterFeed(ctx, srv)
}
