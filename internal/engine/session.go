package engine

import (
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lesismal/nbio/nbhttp/websocket"
)

// Handshake is what a session keeps of its opening request: what handlers
// read, compactly (the query unparsed, a few headers as a flat list), not the
// request.
type Handshake struct {
	Addr     string // the client's address (host, without the port)
	RawQuery string
	Time     time.Time
	Secure   bool     // TLS, or X-Forwarded-Proto https
	headers  []string // name, value, name, value... of keptHeaders
}

// Query parses the handshake's query.
func (h *Handshake) Query() url.Values {
	q, _ := url.ParseQuery(h.RawQuery)
	return q
}

// Header is the kept headers of the handshake (a fresh map on each call).
func (h *Handshake) Header() http.Header {
	out := make(http.Header, len(h.headers)/2)
	for i := 0; i+1 < len(h.headers); i += 2 {
		out[h.headers[i]] = append(out[h.headers[i]], h.headers[i+1])
	}
	return out
}

// keptHeaders are the handshake headers a session keeps: what the Socket.IO
// layer, the auth and the hooks read.
var keptHeaders = []string{"Cookie", "Origin", "User-Agent", "Authorization", "Accept-Language", "Referer", "X-Forwarded-For", "X-Forwarded-Proto", "X-Real-Ip"}

func handshakeOf(r *http.Request) Handshake {
	var kept []string
	for _, k := range keptHeaders {
		for _, v := range r.Header.Values(k) {
			kept = append(kept, k, v)
		}
	}
	addr, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		addr = r.RemoteAddr
	}
	return Handshake{
		Addr: addr, RawQuery: r.URL.RawQuery, Time: time.Now(), headers: slices.Clip(kept),
		Secure: r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https"),
	}
}

type transportKind uint8

const (
	polling transportKind = iota
	websocketTransport
)

// Session is one Engine.IO session.
//
// Lock order: Session.mu, then timers.mu or flusher.mu (never the other way);
// Server.mu is never held while taking a Session.mu.
type Session struct {
	id  string
	srv *Server
	hs  Handshake

	mu        sync.Mutex
	closed    bool
	transport transportKind
	queue     []*Packet // waiting to be written; nil when idle
	queued    int64     // bytes in queue
	pingSent  bool      // a ping awaits its pong
	// long-polling
	getting bool          // a GET is being answered
	wakeGet chan struct{} // set while a GET is parked
	posting bool          // a POST is being read
	probe   *wsOwner      // a websocket probing an upgrade
	// websocket
	ws       *websocket.Conn
	marked   bool // in the flusher's list
	flushing bool // the flusher is writing what it took: no direct write may pass it

	// The handler's calls, one at a time; running while a goroutine drains it.
	inbox   []func()
	running bool

	value any // the layer above's state (SetValue)

	// Owned by Server.timers (under its mutex).
	due       time.Time
	heapIndex int
}

func newSession(srv *Server, id string, hs Handshake) *Session {
	return &Session{id: id, srv: srv, hs: hs, heapIndex: -1}
}

// ID is the session id (the client's sid).
func (s *Session) ID() string { return s.id }

// Handshake is what the session kept of its opening request.
func (s *Session) Handshake() *Handshake { return &s.hs }

// SetValue stores the layer above's state for this session; Value returns it.
func (s *Session) SetValue(v any) {
	s.mu.Lock()
	s.value = v
	s.mu.Unlock()
}

// Value is what SetValue stored.
func (s *Session) Value() any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.value
}

// Parked reports whether a long-polling GET of the session waits for
// packets (for tests and diagnostics: nothing on the wire says so).
func (s *Session) Parked() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.wakeGet != nil
}

// Transport is "polling" or "websocket".
func (s *Session) Transport() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.transport == websocketTransport {
		return "websocket"
	}
	return "polling"
}

// Writable reports whether a packet sent now goes out at once: always on a
// websocket, on long-polling only while a GET is parked (volatile packets
// are dropped otherwise).
func (s *Session) Writable() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.closed && (s.transport == websocketTransport || s.wakeGet != nil)
}

// start runs the handler's Open and the first heartbeat.
func (s *Session) start() {
	s.dispatch(func() { s.srv.handler.Open(s) })
	s.srv.timers.schedule(s, time.Now().Add(s.srv.cfg.PingInterval))
}

// Send queues p for the client. A session past its send bound is closed
// (transport error) and ErrSlowConsumer returned.
//
// On an idle websocket the frame is written at once, from the caller (the
// write does not block: what the kernel does not take waits in the
// netpoller's buffer, bounded by SendBuffer); otherwise, and always for
// Queue, it waits for the flusher, which writes every frame queued for the
// connection in one write.
func (s *Session) Send(p *Packet) error { return s.send(p, true) }

// Queue is Send for a broadcast: the frame always waits for the flusher, so
// that the frames a connection gets from a burst of broadcasts go out in
// one write instead of one each.
func (s *Session) Queue(p *Packet) error { return s.send(p, false) }

// QueueAll queues packets together, under one lock: they go out in one
// write (one long-polling answer), so a client reads them at once.
func (s *Session) QueueAll(packets []*Packet) error {
	var size int64
	for _, p := range packets {
		size += p.size()
	}
	s.mu.Lock()
	if err := s.accept(size); err != nil {
		return err
	}
	for _, p := range packets {
		s.count(p)
		s.enqueue(p)
	}
	s.mu.Unlock()
	return nil
}

// accept checks that size more bytes may be queued: an error (with s.mu
// released, and the session cut off past the send bound) when not. Called
// with s.mu held.
func (s *Session) accept(size int64) error {
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	if b := s.srv.cfg.SendBuffer; b > 0 && s.queued+size > b {
		queued := s.queued
		s.mu.Unlock()
		if f := s.srv.cfg.Counters.SlowConsumer; f != nil {
			f(s.id, queued)
		}
		s.closeWith(ReasonTransportError, nil)
		return ErrSlowConsumer
	}
	return nil
}

// count reports a message accepted for the client.
func (s *Session) count(p *Packet) {
	if f := s.srv.cfg.Counters.Sent; f != nil && p.kind == typeMessage {
		f(len(p.data))
	}
}

func (s *Session) send(p *Packet, direct bool) error {
	s.mu.Lock()
	if err := s.accept(p.size()); err != nil {
		return err
	}
	s.count(p)
	if direct && s.ws != nil && !s.marked && !s.flushing && len(s.queue) == 0 {
		_, err := s.ws.Conn.Write(p.wsFrame())
		s.mu.Unlock()
		if err != nil {
			s.writeFailed(err)
			return ErrClosed
		}
		return nil
	}
	s.enqueue(p)
	s.mu.Unlock()
	return nil
}

// enqueue adds p to the queue and wakes whoever writes it. Called with s.mu held.
func (s *Session) enqueue(p *Packet) {
	s.queue = append(s.queue, p)
	s.queued += p.size()
	switch {
	case s.transport == websocketTransport:
		if !s.marked {
			s.marked = true
			s.srv.flusher.add(s)
		}
	case s.wakeGet != nil:
		select {
		case s.wakeGet <- struct{}{}:
		default:
		}
	}
}

// take empties the queue. Called with s.mu held.
func (s *Session) take() []*Packet {
	q := s.queue
	s.queue, s.queued = nil, 0
	return q
}

// Close ends the session from the server's side: the client gets a close packet.
func (s *Session) Close() { s.closeWith(ReasonForcedClose, closePacket) }

// closeWith ends the session for reason. farewell, when not nil, answers a
// parked polling GET (a close packet when the server ends it, a noop when
// the client did). A client's close with no GET parked leaves the session
// known until the next GET has taken its noop (at most PingTimeout): its
// GET and its close may arrive in either order. A websocket is closed after
// what is queued is written.
func (s *Session) closeWith(reason string, farewell *Packet) bool {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return false
	}
	s.closed = true
	ws, probe := s.ws, s.probe
	s.probe = nil
	lingers := false
	if s.transport == polling {
		if farewell != nil {
			s.queue = append(s.queue, farewell)
		}
		if s.wakeGet != nil {
			select {
			case s.wakeGet <- struct{}{}:
			default:
			}
		} else {
			lingers = farewell == noopPacket
		}
	}
	s.mu.Unlock()

	s.srv.timers.cancel(s)
	if lingers {
		time.AfterFunc(s.srv.cfg.PingTimeout, func() { s.srv.unregister(s) })
	} else {
		s.srv.unregister(s)
	}
	if probe != nil {
		probe.settle()
		if c := probe.conn.Load(); c != nil {
			closeWS(c)
		}
	}
	if ws != nil {
		// The flusher writes what is queued, then closes (see flusher.flush).
		s.srv.flusher.add(s)
	}
	s.dispatch(func() { s.srv.handler.Close(s, reason) })
	return true
}

// dispatch runs f after the session's earlier handler calls, on a goroutine
// that exists only while there is something to run.
func (s *Session) dispatch(f func()) {
	s.mu.Lock()
	s.inbox = append(s.inbox, f)
	start := !s.running
	s.running = true
	s.mu.Unlock()
	if start {
		go s.drain()
	}
}

// dispatchHere is dispatch for a client's messages, which arrive on a
// goroutine of their own (the netpoller's worker for the connection, or the
// POST's request): when nothing else is running for the session, f runs
// right there instead of on a new goroutine, and the connection's next
// message waits for it, which keeps a client from outrunning its handler.
func (s *Session) dispatchHere(f func()) {
	s.mu.Lock()
	if s.running {
		s.inbox = append(s.inbox, f)
		s.mu.Unlock()
		return
	}
	s.running = true
	s.mu.Unlock()
	f()
	s.drain()
}

func (s *Session) drain() {
	for {
		s.mu.Lock()
		if len(s.inbox) == 0 {
			s.inbox, s.running = nil, false
			s.mu.Unlock()
			return
		}
		f := s.inbox[0]
		s.inbox[0] = nil
		s.inbox = s.inbox[1:]
		s.mu.Unlock()
		f()
	}
}

// receive handles a client's packet on the session's current transport.
func (s *Session) receive(p received) {
	switch p.kind {
	case typeMessage:
		s.mu.Lock()
		flooded := len(s.inbox) >= s.srv.cfg.MaxInbox
		s.mu.Unlock()
		if flooded {
			s.srv.log.Debug("handler inbox full, closing", "sid", s.id)
			s.closeWith(ReasonTransportError, closePacket)
			return
		}
		data, binary := p.data, p.binary
		if f := s.srv.cfg.Counters.Received; f != nil {
			f(len(data))
		}
		s.dispatchHere(func() { s.srv.handler.Message(s, data, binary) })
	case typePong:
		s.mu.Lock()
		wasPing := s.pingSent
		s.pingSent = false
		s.mu.Unlock()
		if wasPing {
			s.srv.timers.schedule(s, time.Now().Add(s.srv.cfg.PingInterval))
		}
	case typeClose:
		s.closeWith(ReasonTransportClose, noopPacket)
	case typePing:
		// v4: pings go from the server to the client only.
		s.closeWith(ReasonTransportError, closePacket)
	case typeNoop, typeUpgrade:
		// A noop is harmless; an upgrade packet means something only on a probe.
	}
}

// heartbeat is the session's timer firing: send a ping, or end the session
// when the last one went unanswered.
func (s *Server) heartbeat(sess *Session, now time.Time) {
	sess.mu.Lock()
	if sess.closed {
		sess.mu.Unlock()
		return
	}
	if sess.pingSent {
		sess.mu.Unlock()
		sess.closeWith(ReasonPingTimeout, closePacket)
		return
	}
	sess.pingSent = true
	sess.enqueue(pingPacket)
	sess.mu.Unlock()
	s.timers.schedule(sess, now.Add(s.cfg.PingTimeout))
}
