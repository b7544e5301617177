package namespaces

import (
	"github.com/zishang520/socket.io/v3/pkg/types"

	"github.com/sockside/sockside/internal/sio"
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
func RegisterRoot(srv *sio.Server) {
	n := srv.Namespace("/")
	sio.HandleRaw(n, "echo", func(_ *sio.Client, args []any) ([]any, error) {
		out := make([]any, len(args))
		for i, a := range args {
			// The decoder hands binary over as a reader; a reader can be
			// encoded once, so send the bytes.
			if b, ok := a.(*types.BytesBuffer); ok {
				a = b.Bytes()
			}
			out[i] = a
		}
		return out, nil
	})
	sio.Handle(n, "whoami", func(c *sio.Client, _ struct{}) (WhoAmI, error) {
		return WhoAmI{ID: string(c.Id()), Transport: c.Transport(), Recovered: c.Recovered(), User: c.User.Display()}, nil
	})
}
