// Package plainws is the plain WebSocket endpoint (/ws) for native browser
// WebSocket clients, as in the Express + ws recipes: JSON text messages
// {type:"echo",data} are echoed to the sender, {type:"broadcast",data} go to
// every plain client, anything else gets {type:"error",error}.
package plainws

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// sendQueue bounds the messages waiting for one slow client; a client that
// falls this far behind is disconnected instead of growing memory.
const sendQueue = 256

// Message is both what clients send and what the server answers.
type Message struct {
	Type  string          `json:"type"`
	Data  json.RawMessage `json:"data,omitempty"`
	TS    int64           `json:"ts,omitempty"`
	Error string          `json:"error,omitempty"`
}

// Options configure a Hub.
type Options struct {
	MaxMessage   int64
	PingInterval time.Duration
	PingTimeout  time.Duration
	// CheckOrigin decides whether a browser's Origin may connect.
	CheckOrigin func(*http.Request) bool
	// OnCount is told the number of connected clients after each change.
	OnCount func(int)
	Logger  *slog.Logger
}

// Hub serves /ws and tracks its clients.
type Hub struct {
	opts     Options
	upgrader websocket.Upgrader

	mu      sync.Mutex
	clients map[*client]struct{}
	closed  bool
	wg      sync.WaitGroup
}

type client struct {
	conn *websocket.Conn
	send chan []byte
	once sync.Once
	done chan struct{}
}

// New returns a hub. PingInterval and PingTimeout must be positive.
func New(o Options) *Hub {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Hub{
		opts:     o,
		upgrader: websocket.Upgrader{CheckOrigin: o.CheckOrigin},
		clients:  map[*client]struct{}{},
	}
}

func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	conn, err := h.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered with the error status
	}
	c := &client{conn: conn, send: make(chan []byte, sendQueue), done: make(chan struct{})}
	if !h.add(c) {
		_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "server shutting down"), time.Now().Add(time.Second))
		_ = conn.Close()
		return
	}
	go h.writeLoop(c)
	h.readLoop(c)
}

func (h *Hub) add(c *client) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	h.clients[c] = struct{}{}
	h.wg.Add(1)
	h.count()
	return true
}

func (h *Hub) remove(c *client) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.clients[c]; ok {
		delete(h.clients, c)
		h.wg.Done()
		h.count()
	}
}

// count reports the client count; callers hold h.mu.
func (h *Hub) count() {
	if h.opts.OnCount != nil {
		h.opts.OnCount(len(h.clients))
	}
}

func (h *Hub) readLoop(c *client) {
	defer func() {
		h.remove(c)
		c.stop()
		_ = c.conn.Close()
	}()
	c.conn.SetReadLimit(h.opts.MaxMessage)
	deadline := h.opts.PingInterval + h.opts.PingTimeout
	_ = c.conn.SetReadDeadline(time.Now().Add(deadline))
	c.conn.SetPongHandler(func(string) error { return c.conn.SetReadDeadline(time.Now().Add(deadline)) })
	for {
		kind, data, err := c.conn.ReadMessage()
		if err != nil {
			return
		}
		_ = c.conn.SetReadDeadline(time.Now().Add(deadline))
		out, toAll := Handle(kind, data, time.Now().UnixMilli())
		if toAll {
			h.broadcast(out)
		} else {
			h.enqueue(c, out)
		}
	}
}

// Handle is what one client message makes the server send: the encoded
// reply, and whether it goes to every client (a broadcast) or back to the
// sender. now stamps echoes and broadcasts (Unix milliseconds).
func Handle(kind int, data []byte, now int64) (out []byte, toAll bool) {
	if kind != websocket.TextMessage {
		return encode(Message{Type: "error", Error: "send JSON text messages"}), false
	}
	var m Message
	if err := json.Unmarshal(data, &m); err != nil {
		return encode(Message{Type: "error", Error: "invalid JSON"}), false
	}
	switch m.Type {
	case "echo":
		return encode(Message{Type: "echo", Data: m.Data, TS: now}), false
	case "broadcast":
		return encode(Message{Type: "broadcast", Data: m.Data, TS: now}), true
	default:
		return encode(Message{Type: "error", Error: `unknown type (use "echo" or "broadcast")`}), false
	}
}

func (h *Hub) writeLoop(c *client) {
	ping := time.NewTicker(h.opts.PingInterval)
	defer ping.Stop()
	for {
		select {
		case <-c.done:
			return
		case b := <-c.send:
			_ = c.conn.SetWriteDeadline(time.Now().Add(h.opts.PingTimeout))
			if err := c.conn.WriteMessage(websocket.TextMessage, b); err != nil {
				c.stop()
				_ = c.conn.Close()
				return
			}
		case <-ping.C:
			if err := c.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(h.opts.PingTimeout)); err != nil {
				c.stop()
				_ = c.conn.Close()
				return
			}
		}
	}
}

// enqueue hands b to c's writer, cutting c off when its queue is full: a
// client that stops reading must not hold the others back.
func (h *Hub) enqueue(c *client, b []byte) {
	select {
	case c.send <- b:
	case <-c.done:
	default:
		h.opts.Logger.Warn("plain websocket client too slow, disconnecting", "remote", c.conn.RemoteAddr().String())
		c.stop()
		_ = c.conn.Close()
	}
}

func (h *Hub) broadcast(b []byte) {
	h.mu.Lock()
	targets := make([]*client, 0, len(h.clients))
	for c := range h.clients {
		targets = append(targets, c)
	}
	h.mu.Unlock()
	for _, c := range targets {
		h.enqueue(c, b)
	}
}

func (c *client) stop() { c.once.Do(func() { close(c.done) }) }

// Close says goodbye (close code 1001) to every client and waits until their
// handlers have returned.
func (h *Hub) Close() {
	h.mu.Lock()
	h.closed = true
	targets := make([]*client, 0, len(h.clients))
	for c := range h.clients {
		targets = append(targets, c)
	}
	h.mu.Unlock()
	for _, c := range targets {
		_ = c.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "server shutting down"), time.Now().Add(time.Second))
		c.stop()
		_ = c.conn.Close()
	}
	h.wg.Wait()
}

// encode marshals m without HTML escaping, so an echo is never larger than
// what the client sent plus the envelope (json.Marshal would turn each <,
// > and & inside data into a 6-byte escape: a 6x amplification of every
// broadcast).
func encode(m Message) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(m) // Message always marshals
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}
