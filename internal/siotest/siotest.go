// Package siotest is a minimal Socket.IO v5 client over a websocket for Go
// tests and examples (the official Go client is not available here): it
// connects to one namespace, emits events with or without an ack and
// collects what the server sends. Text frames only: binary attachments are
// not supported. Every wait is bounded by Timeout.
package siotest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// Timeout bounds every wait of a Client.
const Timeout = 5 * time.Second

// Client is one connection joined to one namespace.
type Client struct {
	// SID is the socket id the server gave the namespace connection.
	SID string
	// PID is its private id for connection state recovery ("" when the
	// server has recovery off): a reconnect sends it with the last offset.
	PID string

	conn *websocket.Conn
	nsp  string
	wmu  sync.Mutex

	mu      sync.Mutex
	packets []string // Socket.IO packets of nsp, namespace prefix removed
	changed chan struct{}
	closed  error
	lastAck int
}

// ConnectError is the server's refusal of the namespace connect.
type ConnectError struct {
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data"`
}

func (e *ConnectError) Error() string { return "connect_error: " + e.Message }

// Dial opens a websocket to the Socket.IO server at base (http://host:port,
// default path /socket.io/) and connects to nsp with auth (nil for none).
// A refused connect is returned as a *ConnectError.
func Dial(base, nsp string, auth any) (*Client, error) { return DialWith(base, nsp, auth, nil) }

// DialWith is Dial with header on the websocket's handshake request (a
// browser's cookies, say).
func DialWith(base, nsp string, auth any, header http.Header) (*Client, error) {
	url := "ws" + strings.TrimPrefix(base, "http") + "/socket.io/?EIO=4&transport=websocket"
	conn, _, err := (&websocket.Dialer{HandshakeTimeout: Timeout}).Dial(url, header)
	if err != nil {
		return nil, fmt.Errorf("siotest: dial %s: %w", url, err)
	}
	c := &Client{conn: conn, nsp: nsp, changed: make(chan struct{}, 1)}
	_ = conn.SetReadDeadline(time.Now().Add(Timeout))
	_, open, err := conn.ReadMessage()
	if err != nil || len(open) == 0 || open[0] != '0' {
		_ = conn.Close()
		return nil, fmt.Errorf("siotest: no Engine.IO open packet (%q): %v", open, err)
	}
	_ = conn.SetReadDeadline(time.Time{})
	go c.read()
	connect := "0" + c.prefix()
	if auth != nil {
		b, err := json.Marshal(auth)
		if err != nil {
			_ = conn.Close()
			return nil, fmt.Errorf("siotest: auth: %w", err)
		}
		connect += string(b)
	}
	if err := c.write("4" + connect); err != nil {
		_ = conn.Close()
		return nil, err
	}
	p, err := c.wait(func(p string) bool { return p[0] == '0' || p[0] == '4' })
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	if p[0] == '4' {
		_ = conn.Close()
		var ce ConnectError
		if err := json.Unmarshal([]byte(p[1:]), &ce); err != nil {
			return nil, fmt.Errorf("siotest: bad CONNECT_ERROR %q: %w", p, err)
		}
		return nil, &ce
	}
	var hs struct {
		SID string `json:"sid"`
		PID string `json:"pid"`
	}
	if err := json.Unmarshal([]byte(p[1:]), &hs); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("siotest: bad CONNECT %q: %w", p, err)
	}
	c.SID, c.PID = hs.SID, hs.PID
	return c, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// Emit sends event with args, without an ack.
func (c *Client) Emit(event string, args ...any) error {
	b, err := json.Marshal(append([]any{event}, args...))
	if err != nil {
		return fmt.Errorf("siotest: emit %q: %w", event, err)
	}
	return c.write("42" + c.prefix() + string(b))
}

// Call sends event with args and an ack id, and decodes the ack's first
// argument, if any, into res.
func (c *Client) Call(res any, event string, args ...any) error {
	b, err := json.Marshal(append([]any{event}, args...))
	if err != nil {
		return fmt.Errorf("siotest: call %q: %w", event, err)
	}
	c.mu.Lock()
	c.lastAck++
	id := strconv.Itoa(c.lastAck)
	c.mu.Unlock()
	if err := c.write("42" + c.prefix() + id + string(b)); err != nil {
		return err
	}
	p, err := c.wait(func(p string) bool { return strings.HasPrefix(p, "3"+id+"[") })
	if err != nil {
		return fmt.Errorf("siotest: ack of %q: %w", event, err)
	}
	var acks []json.RawMessage
	if err := json.Unmarshal([]byte(p[1+len(id):]), &acks); err != nil {
		return fmt.Errorf("siotest: bad ack %q: %v", p, err)
	}
	if len(acks) == 0 {
		return nil // an ack without arguments leaves res as it was
	}
	return json.Unmarshal(acks[0], res)
}

// Next waits for the next event named event and decodes its first
// argument into payload (nil to ignore it). Events are kept until read, so
// one that came before the call is found too.
func (c *Client) Next(event string, payload any) error { return c.NextWithin(event, payload, Timeout) }

// NextWithin is Next with a wait of its own (at most Timeout).
func (c *Client) NextWithin(event string, payload any, within time.Duration) error {
	args, err := c.nextArgs(event, within)
	if err != nil || payload == nil || len(args) == 0 {
		return err
	}
	return json.Unmarshal(args[0], payload)
}

// NextArgs waits for the next event named event and returns its arguments
// (with recovery on, a broadcast's offset is the last).
func (c *Client) NextArgs(event string) ([]json.RawMessage, error) { return c.nextArgs(event, Timeout) }

// NextPacket waits for the next packet that starts with prefix (its
// namespace removed: `2["event"` or `51-["event"`, say) and returns it.
func (c *Client) NextPacket(prefix string) (string, error) {
	p, err := c.wait(func(p string) bool { return strings.HasPrefix(p, prefix) })
	if err != nil {
		return "", fmt.Errorf("siotest: packet %q: %w", prefix, err)
	}
	return p, nil
}

func (c *Client) nextArgs(event string, within time.Duration) ([]json.RawMessage, error) {
	var found []json.RawMessage
	_, err := c.waitFor(min(within, Timeout), func(p string) bool {
		var args []json.RawMessage
		if p[0] != '2' || json.Unmarshal([]byte(p[1:]), &args) != nil || len(args) == 0 {
			return false
		}
		var name string
		if json.Unmarshal(args[0], &name) != nil || name != event {
			return false
		}
		found = args[1:]
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("siotest: event %q: %w", event, err)
	}
	return found, nil
}

func (c *Client) prefix() string {
	if c.nsp == "/" {
		return ""
	}
	return c.nsp + ","
}

func (c *Client) write(s string) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.conn.SetWriteDeadline(time.Now().Add(Timeout))
	if err := c.conn.WriteMessage(websocket.TextMessage, []byte(s)); err != nil {
		return fmt.Errorf("siotest: write: %w", err)
	}
	return nil
}

// read answers pings and files the namespace's packets until the
// connection ends.
func (c *Client) read() {
	for {
		_, b, err := c.conn.ReadMessage()
		if err != nil {
			c.mu.Lock()
			c.closed = err
			c.mu.Unlock()
			c.notify()
			return
		}
		s := string(b)
		if s == "2" {
			_ = c.write("3")
			continue
		}
		if len(s) < 2 || s[0] != '4' {
			continue
		}
		p, ok := c.own(s[1:])
		if !ok {
			continue
		}
		c.mu.Lock()
		c.packets = append(c.packets, p)
		c.mu.Unlock()
		c.notify()
	}
}

// own strips the namespace from a packet of c's namespace (binary packets'
// attachment count, "5" + "1-", stays before it).
func (c *Client) own(p string) (string, bool) {
	head := 1
	if p[0] == '5' || p[0] == '6' {
		if dash := strings.IndexByte(p, '-'); dash > 0 {
			head = dash + 1
		}
	}
	if c.nsp == "/" {
		return p, !strings.HasPrefix(p[head:], "/")
	}
	rest, ok := strings.CutPrefix(p[head:], c.nsp+",")
	return p[:head] + rest, ok
}

func (c *Client) notify() {
	select {
	case c.changed <- struct{}{}:
	default:
	}
}

// wait removes and returns the first packet that matches, waiting for one
// up to Timeout.
func (c *Client) wait(match func(string) bool) (string, error) { return c.waitFor(Timeout, match) }

func (c *Client) waitFor(within time.Duration, match func(string) bool) (string, error) {
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		for i, p := range c.packets {
			if match(p) {
				c.packets = append(c.packets[:i:i], c.packets[i+1:]...)
				c.mu.Unlock()
				return p, nil
			}
		}
		closed := c.closed
		c.mu.Unlock()
		if closed != nil {
			return "", fmt.Errorf("connection closed: %w", closed)
		}
		select {
		case <-c.changed:
		case <-deadline.C:
			return "", errors.New("timed out")
		}
	}
}

// Connect is Dial for a test: a failure ends the test, and the connection
// is closed with it.
func Connect(t testing.TB, base, nsp string, auth any) *Client {
	t.Helper()
	c, err := Dial(base, nsp, auth)
	if err != nil {
		t.Fatalf("connect %s: %v", nsp, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Ask is Call for a test: it returns the ack's first argument decoded into
// a T, and a failure ends the test.
func Ask[T any](t testing.TB, c *Client, event string, args ...any) T {
	t.Helper()
	var ack T
	if err := c.Call(&ack, event, args...); err != nil {
		t.Fatal(err)
	}
	return ack
}
