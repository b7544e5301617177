package sockside_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"net/http/httptest"
	"time"

	"github.com/sockside/sockside"
	"github.com/sockside/sockside/config"
	"github.com/sockside/sockside/internal/siotest"
)

// quiet keeps the examples' output to what they print.
var quiet = sockside.WithLogger(slog.New(slog.DiscardHandler))

// Serve a namespace: a server from the default configuration (or
// config.FromEnvironment), one namespace that greets every socket, served
// as an http.Handler. In a program, srv.Run(ctx) listens on
// SOCKET_HOST:SOCKET_PORT and drains on shutdown instead.
func ExampleNew() {
	srv, err := sockside.New(config.Default(), quiet)
	if err != nil {
		log.Fatal(err)
	}
	lobby := srv.Namespace("/lobby")
	type Welcome struct {
		Text string `json:"text"`
	}
	welcome := sockside.Emits[Welcome](lobby, "welcome")
	lobby.OnConnect(func(s *sockside.Socket) {
		welcome.ToSocket(s, Welcome{Text: "hello from " + s.Namespace()})
	})

	web := httptest.NewServer(srv) // Socket.IO at /socket.io/
	defer web.Close()
	defer srv.Shutdown(context.Background())

	// What io(url + "/lobby") with socket.io-client does.
	client, err := siotest.Dial(web.URL, "/lobby", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	var w Welcome
	if err := client.Next("welcome", &w); err != nil {
		log.Fatal(err)
	}
	fmt.Println(w.Text)
	// Output: hello from /lobby
}

// Handle an event with an ack: the payload decodes into a Go type, the
// returned value is the ack, a BadRequest error is acked as
// {ok: false, error}.
func ExampleHandle() {
	srv, err := sockside.New(config.Default(), quiet)
	if err != nil {
		log.Fatal(err)
	}
	type AddRequest struct {
		A, B float64
	}
	type AddAck struct {
		OK  bool    `json:"ok"`
		Sum float64 `json:"sum"`
	}
	calc := srv.Namespace("/calc")
	sockside.Handle(calc, "add", func(s *sockside.Socket, req AddRequest) (AddAck, error) {
		if req.A == 0 && req.B == 0 {
			return AddAck{}, sockside.BadRequest("nothing to add")
		}
		return AddAck{OK: true, Sum: req.A + req.B}, nil
	})

	web := httptest.NewServer(srv)
	defer web.Close()
	defer srv.Shutdown(context.Background())

	client, err := siotest.Dial(web.URL, "/calc", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	// await socket.emitWithAck("add", {A: 2, B: 3})
	for _, req := range []AddRequest{{A: 2, B: 3}, {}} {
		var ack map[string]any
		if err := client.Call(&ack, "add", req); err != nil {
			log.Fatal(err)
		}
		fmt.Println(ack)
	}
	// Output:
	// map[ok:true sum:5]
	// map[error:nothing to add ok:false]
}

// Emit to a room from outside a handler: a background job (a ticker, a
// queue consumer, an HTTP handler of the application) pushes to the
// sockets in a room. With REDIS_URL set, sockets on every node get it.
func ExampleEmitter_ToRoom() {
	srv, err := sockside.New(config.Default(), quiet)
	if err != nil {
		log.Fatal(err)
	}
	type Price struct {
		Symbol string  `json:"symbol"`
		Price  float64 `json:"price"`
	}
	prices := srv.Namespace("/prices")
	tick := sockside.Emits[Price](prices, "price")
	type Subscribe struct {
		Symbol string `json:"symbol"`
	}
	sockside.Handle(prices, "subscribe", func(s *sockside.Socket, req Subscribe) (struct{}, error) {
		s.Join("symbol:" + req.Symbol)
		return struct{}{}, nil
	})

	web := httptest.NewServer(srv)
	defer web.Close()
	defer srv.Shutdown(context.Background())

	client, err := siotest.Dial(web.URL, "/prices", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	if err := client.Call(&struct{}{}, "subscribe", Subscribe{Symbol: "ACME"}); err != nil {
		log.Fatal(err)
	}

	// The background job: nothing to do with any socket.
	go func() {
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for i := range 3 {
			<-t.C
			tick.ToRoom("symbol:ACME", Price{Symbol: "ACME", Price: 100 + float64(i)})
		}
	}()
	for range 3 {
		var p Price
		if err := client.Next("price", &p); err != nil {
			log.Fatal(err)
		}
		fmt.Println(p.Symbol, p.Price)
	}
	// Output:
	// ACME 100
	// ACME 101
	// ACME 102
}
