package cluster

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/zishang520/socket.io/adapters/adapter/v3"
	"github.com/zishang520/socket.io/servers/socket/v3"
)

// request is a fetchSockets or serverSideEmit of this node waiting for the
// other nodes' answers.
type request struct {
	kind     adapter.MessageType
	expected int
	got      int
	sockets  []socket.SocketDetails
	replies  []any
	timer    *time.Timer
	finish   func(r *request, err error)
}

// pending holds a node's open requests by id; the zero value is ready.
type pending struct {
	mu       sync.Mutex
	requests map[string]*request
}

// track registers r and finishes it with an error after timeout.
func (p *pending) track(id string, r *request, timeout time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.requests == nil {
		p.requests = map[string]*request{}
	}
	p.requests[id] = r
	r.timer = time.AfterFunc(timeout, func() {
		if r := p.take(id); r != nil {
			r.finish(r, fmt.Errorf("timeout reached: %d of %d nodes answered", r.got, r.expected))
		}
	})
}

// take removes and returns a pending request (nil when already finished).
func (p *pending) take(id string) *request {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := p.requests[id]
	delete(p.requests, id)
	return r
}

// answer records one node's answer (add applies it) and finishes the
// request when every expected node has answered. Unknown ids are ignored:
// answers to other nodes' requests, or late ones.
func (p *pending) answer(id string, add func(*request)) {
	p.mu.Lock()
	r, ok := p.requests[id]
	if !ok {
		p.mu.Unlock()
		return
	}
	add(r)
	r.got++
	complete := r.got >= r.expected
	if complete {
		delete(p.requests, id)
		r.timer.Stop()
	}
	p.mu.Unlock()
	if complete {
		r.finish(r, nil)
	}
}

// closeAll finishes every open request with an error.
func (p *pending) closeAll() {
	p.mu.Lock()
	open := p.requests
	p.requests = nil
	p.mu.Unlock()
	for _, r := range open {
		r.timer.Stop()
		r.finish(r, errors.New("adapter closed"))
	}
}
