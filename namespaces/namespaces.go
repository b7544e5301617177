// Package namespaces holds the demo's Socket.IO namespaces, one file each,
// each added by one Register function and built only on the public API
// (package sockside). Their event names and payload types are declared
// through sockside.Handle and sockside.Emits, which is also what the demo's
// TypeScript event map (web/lib/socket-events.ts) is generated from: after
// changing them, run `make generate`.
//
// The command serves them with SOCKET_DEMO=on; an application embedding
// sockside may register them too.
package namespaces

import (
	"context"

	"github.com/sockside/sockside"
)

// RegisterAll adds every demo namespace to srv. Background work (the feed)
// runs until ctx ends; the returned channel closes once it has stopped.
func RegisterAll(ctx context.Context, srv *sockside.Server) <-chan struct{} {
	RegisterRoot(srv)
	RegisterChat(srv)
	return RegisterFeed(ctx, srv)
}
