package sio

import (
	"sync"

	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	engine "github.com/zishang520/socket.io/servers/engine/v3"
	"github.com/zishang520/socket.io/servers/socket/v3"
)

// The event path. The library hands every packet a client sends to the
// socket's task queue (v3.0.5, Client.ondecoded), which starts a goroutine
// whenever the queue is idle, that is for nearly every event, and then
// walks it through an emitter, the socket's middleware chain and the
// queue again before our dispatcher sees it. A goroutine per event, with
// its stack grown anew each time, was a quarter of the CPU of an echo.
//
// Events to a socket that a namespace of ours has admitted therefore go
// from the decoder straight to admit, on the connection's reader: one
// goroutine at a time per connection, in the order they came, as the
// queue ran them. Everything else (CONNECT, DISCONNECT, acks from the
// client, packets for a namespace the connection has not joined, events
// that arrive before the socket is registered) takes the library's path,
// whose socket middleware is the same admit.

// eventKey names one socket: its connection and namespace.
type eventKey struct {
	conn engine.Socket
	nsp  string
}

// registerEvents routes c's events to admit from the decoder on, until
// the socket disconnects.
func (s *Server) registerEvents(c *Client) {
	s.sockets.Store(eventKey{c.Conn(), c.ns.name}, c)
}

func (s *Server) unregisterEvents(c *Client) {
	s.sockets.CompareAndDelete(eventKey{c.Conn(), c.ns.name}, c)
}

// dispatch is the decoders' dispatchFunc.
func (s *Server) dispatch(conn engine.Socket, p *parser.Packet) bool {
	if p.Type != parser.EVENT && p.Type != parser.BINARY_EVENT {
		return false
	}
	v, ok := s.sockets.Load(eventKey{conn, p.Nsp})
	if !ok {
		return false
	}
	c := v.(*Client)
	args, ok := p.Data.([]any)
	if !ok || len(args) == 0 || !c.Connected() {
		return false // the library's answer: ignored, or "invalid state"
	}
	if p.Id != nil {
		args = append(args, c.ack(*p.Id))
	}
	c.ns.admit(c, args)
	return true
}

// ack is the callback of an event the client sent with an ack id: what the
// library's Socket.ack does, answered at most once and only while the
// socket is connected.
func (c *Client) ack(id uint64) socket.Ack {
	var once sync.Once
	return func(args []any, _ error) {
		once.Do(func() {
			if c.Connected() {
				c.send(&parser.Packet{Type: parser.ACK, Id: &id, Data: args})
			}
		})
	}
}

// send writes a packet of c's namespace to its connection, as the library's
// Socket.packet does (the encoder makes an ACK or EVENT with binary data a
// BINARY_ one).
func (c *Client) send(p *parser.Packet) {
	if c.Conn().ReadyState() != "open" {
		return
	}
	p.Nsp = c.ns.name
	c.Client().WriteToEngine(c.ns.srv.IO.Encoder().Encode(p), &socket.WriteOptions{})
}
