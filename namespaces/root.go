package namespaces

import (
	"github.com/sockside/sockside"
)

// WhoAmI is the ack of "whoami".
type WhoAmI struct {
	ID        string `json:"id"`
	Transport string `json:"transport"`
	Recovered bool   `json:"recovered"`
	User      string `json:"user"`
}

// RegisterRoot adds the main namespace "/": "echo" acks its arguments back
// unchanged (binary included) and "whoami" describes the connection.
func RegisterRoot(srv *sockside.Server) {
	n := srv.Namespace("/")
	sockside.HandleRaw(n, "echo", func(_ *sockside.Socket, args []any) ([]any, error) { return args, nil })
	sockside.Handle(n, "whoami", func(s *sockside.Socket, _ struct{}) (WhoAmI, error) {
		return WhoAmI{ID: s.ID(), Transport: s.Transport(), Recovered: s.Recovered(), User: s.User().Display()}, nil
	})
}
