package namespaces

import (
	"context"
	"math"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/sockside/sockside"
)

// OrderItem is one line of an order.
type OrderItem struct {
	Name  string  `json:"name"`
	Qty   int     `json:"qty"`
	Price float64 `json:"price"`
}

// Order is pushed to every /feed socket as "order".
type Order struct {
	ID    string      `json:"id"`
	Items []OrderItem `json:"items"`
	Total float64     `json:"total"`
	TS    int64       `json:"ts"`
}

// recentOrders is how many past orders a new /feed socket receives first.
const recentOrders = 20

var menu = []OrderItem{
	{Name: "Margherita", Price: 9.5}, {Name: "Pepperoni", Price: 11}, {Name: "Caesar salad", Price: 8.25},
	{Name: "Ramen", Price: 13.5}, {Name: "Burger", Price: 12}, {Name: "Fries", Price: 4}, {Name: "Lemonade", Price: 3.5},
}

type feed struct {
	order  sockside.Emitter[Order]
	recent sockside.Emitter[[]Order]

	mu   sync.Mutex
	last []Order // newest last
}

// RegisterFeed adds "/feed": one goroutine generates an order every
// FEED_INTERVAL and pushes it to every connected socket (no per-socket
// timers); a new socket first gets the recent orders. The goroutine stops
// when ctx ends; the returned channel closes then.
func RegisterFeed(ctx context.Context, srv *sockside.Server) <-chan struct{} {
	n := srv.Namespace("/feed")
	f := &feed{order: sockside.Emits[Order](n, "order"), recent: sockside.Emits[[]Order](n, "recent")}
	n.OnConnect(func(s *sockside.Socket) { f.recent.ToSocket(s, f.snapshot()) })
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(srv.Config().FeedInterval)
		defer t.Stop()
		var seq uint64
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				seq++
				f.publish(newOrder(seq, now))
			}
		}
	}()
	return stopped
}

func (f *feed) publish(o Order) {
	f.mu.Lock()
	f.last = append(f.last, o)
	if len(f.last) > recentOrders {
		f.last = f.last[len(f.last)-recentOrders:]
	}
	f.mu.Unlock()
	f.order.ToAll(o)
}

// snapshot returns the recent orders, newest first.
func (f *feed) snapshot() []Order {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Order, len(f.last))
	for i, o := range f.last {
		out[len(f.last)-1-i] = o
	}
	return out
}

func newOrder(seq uint64, now time.Time) Order {
	o := Order{ID: "o" + strconv.FormatUint(seq, 10), TS: now.UnixMilli(), Items: []OrderItem{}}
	for range 1 + rand.IntN(3) {
		it := menu[rand.IntN(len(menu))]
		it.Qty = 1 + rand.IntN(3)
		o.Items = append(o.Items, it)
		o.Total += it.Price * float64(it.Qty)
	}
	o.Total = math.Round(o.Total*100) / 100
	return o
}
