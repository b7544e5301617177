package main

// A minimal Engine.IO v4 / Socket.IO v5 client: just what the scenarios need,
// written to cost the generator as little as possible per packet (no JSON
// decoding on the hot path, buffers reused), so that the server, not the
// generator, is what runs out first.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// conn is one Socket.IO connection to one namespace, over either transport.
type conn interface {
	// Emit sends `42<nsp>,<id>[event,...]`; id < 0 asks for no ack. raw is
	// the JSON array body, e.g. `["echo","x"]`.
	Emit(id int, raw string) error
	Close()
	// Done is closed when the connection ends, for whatever reason.
	Done() <-chan struct{}
}

// onPacket receives a Socket.IO packet (engine message payload without the
// leading '4', e.g. `3/chat,5[{...}]`); it must not keep the slice.
type onPacket func(p []byte)

// dialOptions say where and how to connect.
type dialOptions struct {
	Addr      string // host:port
	Path      string // "/socket.io/"
	Namespace string // "/" or "/chat"
	Timeout   time.Duration
}

func (o dialOptions) nspPrefix() string {
	if o.Namespace == "/" || o.Namespace == "" {
		return ""
	}
	return o.Namespace + ","
}

// connectPacket is the Socket.IO CONNECT for the namespace.
func (o dialOptions) connectPacket() string { return "40" + o.nspPrefix() }

// emitPacket builds `42<nsp>,<id><raw>`.
func emitPacket(dst []byte, nsp string, id int, raw string) []byte {
	dst = append(dst, "42"...)
	dst = append(dst, nsp...)
	if id >= 0 {
		dst = strconv.AppendInt(dst, int64(id), 10)
	}
	return append(dst, raw...)
}

// ackID parses the id of an ACK packet `3<nsp>,<id>[...]`; ok is false for
// anything else.
func ackID(p []byte) (int, bool) {
	if len(p) < 2 || p[0] != '3' {
		return 0, false
	}
	p = p[1:]
	if p[0] == '/' {
		i := bytes.IndexByte(p, ',')
		if i < 0 {
			return 0, false
		}
		p = p[i+1:]
	}
	id, n := 0, 0
	for n < len(p) && p[n] >= '0' && p[n] <= '9' {
		id = id*10 + int(p[n]-'0')
		n++
	}
	return id, n > 0
}

// ---------------------------------------------------------------- websocket

var wsDialer = &websocket.Dialer{
	HandshakeTimeout: 15 * time.Second,
	ReadBufferSize:   4096,
	WriteBufferSize:  1024,
	NetDialContext:   (&net.Dialer{Timeout: 15 * time.Second}).DialContext,
}

type wsConn struct {
	c      *websocket.Conn
	err    error // why the read loop ended (read before Done is closed)
	nsp    string
	wmu    sync.Mutex
	wbuf   []byte
	done   chan struct{}
	closed atomic.Bool
	once   sync.Once
}

// dialWS opens a websocket-only Engine.IO session, connects to the
// namespace, and from then on hands every packet to fn and answers pings.
func dialWS(ctx context.Context, o dialOptions, fn onPacket) (*wsConn, error) {
	u := url.URL{Scheme: "ws", Host: o.Addr, Path: o.Path, RawQuery: "EIO=4&transport=websocket"}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	c, resp, err := wsDialer.DialContext(ctx, u.String(), nil)
	if err != nil {
		if resp != nil {
			err = fmt.Errorf("%w (HTTP %d)", err, resp.StatusCode)
		}
		return nil, err
	}
	w := &wsConn{c: c, nsp: o.nspPrefix(), done: make(chan struct{})}
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetReadDeadline(dl)
	}
	// open, then our CONNECT, then the server's CONNECT (pings answered).
	if err := w.expect(func(p []byte) bool { return p[0] == '0' }); err != nil {
		c.Close()
		return nil, fmt.Errorf("engine.io open: %w", err)
	}
	if err := w.write([]byte(o.connectPacket())); err != nil {
		c.Close()
		return nil, err
	}
	want := "40" + w.nsp
	if err := w.expect(func(p []byte) bool {
		if bytes.HasPrefix(p, []byte("44"+w.nsp)) {
			return true
		}
		return bytes.HasPrefix(p, []byte(want)) && (w.nsp != "" || len(p) == 2 || p[2] == '{')
	}); err != nil {
		c.Close()
		return nil, fmt.Errorf("socket.io connect: %w", err)
	}
	_ = c.SetReadDeadline(time.Time{})
	go w.readLoop(fn)
	return w, nil
}

// expect reads until match accepts a packet; a connect_error fails.
func (w *wsConn) expect(match func(p []byte) bool) error {
	for {
		_, p, err := w.c.ReadMessage()
		if err != nil {
			return err
		}
		if len(p) == 0 {
			continue
		}
		if string(p) == "2" {
			if err := w.write([]byte("3")); err != nil {
				return err
			}
			continue
		}
		if match(p) {
			if bytes.HasPrefix(p, []byte("44")) {
				return fmt.Errorf("connect_error: %s", p)
			}
			return nil
		}
	}
}

func (w *wsConn) readLoop(fn onPacket) {
	defer w.Close()
	var buf bytes.Buffer
	for {
		_, r, err := w.c.NextReader()
		if err != nil {
			if !w.closed.Load() {
				w.err = err
			}
			return
		}
		buf.Reset()
		if _, err := buf.ReadFrom(r); err != nil {
			return
		}
		p := buf.Bytes()
		if len(p) == 0 {
			continue
		}
		switch p[0] {
		case '2': // ping
			if w.write([]byte("3")) != nil {
				return
			}
		case '4':
			fn(p[1:])
		case '1': // close
			w.err = errors.New("engine.io close packet")
			return
		}
	}
}

func (w *wsConn) write(p []byte) error {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	return w.c.WriteMessage(websocket.TextMessage, p)
}

func (w *wsConn) Emit(id int, raw string) error {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	w.wbuf = emitPacket(w.wbuf[:0], w.nsp, id, raw)
	return w.c.WriteMessage(websocket.TextMessage, w.wbuf)
}

func (w *wsConn) Close() {
	w.once.Do(func() {
		w.closed.Store(true)
		_ = w.c.Close()
		close(w.done)
	})
}

func (w *wsConn) Done() <-chan struct{} { return w.done }

// ------------------------------------------------------------- long-polling

// pollHTTP is shared by every polling client: enough idle connections for
// one pending GET and one POST per client.
var pollHTTP = &http.Client{
	Transport: &http.Transport{
		Proxy:               nil,
		MaxIdleConns:        0,
		MaxIdleConnsPerHost: 4096,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		DialContext:         (&net.Dialer{Timeout: 15 * time.Second}).DialContext,
	},
}

type pollConn struct {
	base string // ...&sid=...
	nsp  string
	pmu  sync.Mutex // Engine.IO refuses overlapping POSTs
	done chan struct{}
	once sync.Once
}

// dialPolling opens a long-polling session the way socket.io-client does
// without upgrades: GET handshake, POST CONNECT, then a GET always pending.
func dialPolling(ctx context.Context, o dialOptions, fn onPacket) (*pollConn, error) {
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	root := "http://" + o.Addr + o.Path + "?EIO=4&transport=polling"
	body, err := pollGet(ctx, root)
	if err != nil {
		return nil, fmt.Errorf("handshake: %w", err)
	}
	if len(body) == 0 || body[0] != '0' {
		return nil, fmt.Errorf("handshake: unexpected %q", body)
	}
	var open struct {
		SID string `json:"sid"`
	}
	if err := json.Unmarshal(body[1:], &open); err != nil || open.SID == "" {
		return nil, fmt.Errorf("handshake: %q", body)
	}
	p := &pollConn{base: root + "&sid=" + url.QueryEscape(open.SID), nsp: o.nspPrefix(), done: make(chan struct{})}
	if err := p.post(ctx, []byte(o.connectPacket())); err != nil {
		return nil, err
	}
	connected := false
	for !connected {
		body, err := pollGet(ctx, p.base)
		if err != nil {
			return nil, fmt.Errorf("socket.io connect: %w", err)
		}
		for pkt := range bytes.SplitSeq(body, []byte{0x1e}) {
			switch {
			case bytes.Equal(pkt, []byte("2")):
				if err := p.post(ctx, []byte("3")); err != nil {
					return nil, err
				}
			case bytes.HasPrefix(pkt, []byte("44")):
				return nil, fmt.Errorf("connect_error: %s", pkt)
			case bytes.HasPrefix(pkt, []byte("40"+p.nsp)):
				connected = true
			case connected && len(pkt) > 0 && pkt[0] == '4':
				fn(pkt[1:])
			}
		}
	}
	go p.readLoop(fn)
	return p, nil
}

func pollGet(ctx context.Context, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := pollHTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET: HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(body)))
	}
	return body, nil
}

func (p *pollConn) post(ctx context.Context, body []byte) error {
	p.pmu.Lock()
	defer p.pmu.Unlock()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.base, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	resp, err := pollHTTP.Do(req)
	if err != nil {
		return err
	}
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST: HTTP %d %q", resp.StatusCode, answer)
	}
	return nil
}

func (p *pollConn) readLoop(fn onPacket) {
	defer p.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-p.done
		cancel()
	}()
	for {
		body, err := pollGet(ctx, p.base)
		if err != nil {
			return
		}
		for pkt := range bytes.SplitSeq(body, []byte{0x1e}) {
			if len(pkt) == 0 {
				continue
			}
			switch pkt[0] {
			case '2':
				// Answer from another goroutine: the next GET must not wait
				// for the POST.
				go func() { _ = p.post(ctx, []byte("3")) }()
			case '4':
				fn(pkt[1:])
			case '1':
				return
			}
		}
	}
}

func (p *pollConn) Emit(id int, raw string) error {
	return p.post(context.Background(), emitPacket(nil, p.nsp, id, raw))
}

func (p *pollConn) Close() {
	p.once.Do(func() { close(p.done) })
}

func (p *pollConn) Done() <-chan struct{} { return p.done }

// dial opens a connection over the named transport.
func dial(ctx context.Context, transport string, o dialOptions, fn onPacket) (conn, error) {
	switch transport {
	case "websocket":
		return dialWS(ctx, o, fn)
	case "polling":
		return dialPolling(ctx, o, fn)
	}
	return nil, errors.New("unknown transport " + transport)
}
