// Package engine is sockside's Engine.IO v4 server (socketio/engine.io-protocol
// v4-current.md): the handshake, long-polling, websocket, the upgrade from
// polling with its probe, heartbeats, and the close semantics and errors of
// the spec. The layer above (Socket.IO) sees sessions and their messages
// through a Handler.
//
// What it costs per session is the point of it: websockets are handed to a
// netpoller (github.com/lesismal/nbio) after the HTTP upgrade, so an idle
// websocket has no goroutine; heartbeats of every session run from one
// timer heap; a session's outgoing packets wait in a slice that is nil when
// idle and are written by one flusher, every queued frame of a connection in
// one write; a broadcast's frame is built once for all its receivers. A
// handler runs off the poller, one message at a time per session, on a
// goroutine that exists only while that session has messages to handle.
package engine

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lesismal/nbio/nbhttp"
)

// Config is the engine's settings; Default has the protocol's defaults.
type Config struct {
	PingInterval   time.Duration // between the server's pings
	PingTimeout    time.Duration // how long a pong may take after a ping
	UpgradeTimeout time.Duration // from a websocket probe to the client's upgrade packet
	MaxPayload     int64         // largest message or POST body; more ends the session
	// SendBuffer bounds the bytes queued for one session (the slow-consumer
	// cut-off); 0 turns it off.
	SendBuffer int64
	// MaxInbox bounds the messages waiting for the handler per session: a
	// client sending faster than its handler keeps up is cut off.
	MaxInbox int
	// AllowRequest, when set, vets every handshake before a session exists
	// (origin policy, rate limits); an error refuses it (a *RequestError
	// chooses the answer, any other error is 403 Forbidden with its text).
	AllowRequest func(*http.Request) error
	// Counters report what metrics count; any may be nil.
	Counters Counters
	Logger   *slog.Logger
}

// Counters are the engine's reports to metrics. They are called on hot
// paths (a message each): keep them to an atomic add.
type Counters struct {
	Received     func(bytes int)                // a client's message
	Sent         func(bytes int)                // a message accepted for a client
	Refused      func(err *RequestError)        // a request refused with a protocol error (AllowRequest's refusals are its own to count)
	SlowConsumer func(sid string, queued int64) // a session cut off at SendBuffer
}

// Default is Node's engine.io defaults.
func Default() Config {
	return Config{
		PingInterval:   25 * time.Second,
		PingTimeout:    20 * time.Second,
		UpgradeTimeout: 10 * time.Second,
		MaxPayload:     1_000_000,
		SendBuffer:     8_000_000,
		MaxInbox:       1024,
	}
}

// Handler is the layer above. Its calls for one session come one at a time,
// in order, off the poller: Open first, Close last.
type Handler interface {
	Open(s *Session)
	// Message is a client's message; data is the handler's to keep.
	Message(s *Session, data []byte, binary bool)
	// Close tells why the session ended (one of the Reason constants).
	Close(s *Session, reason string)
}

// UpgradeHandler, when the Handler implements it, hears that a session moved
// from long-polling to websocket.
type UpgradeHandler interface {
	Upgrade(s *Session)
}

// Close reasons, as Node's engine.io names them (the Socket.IO layer passes
// them on to applications as disconnect reasons).
const (
	ReasonTransportClose = "transport close" // the client closed the connection or sent a close packet
	ReasonTransportError = "transport error" // a protocol breach, an oversize message, a slow consumer, a flood
	ReasonPingTimeout    = "ping timeout"    // no pong in time
	ReasonParseError     = "parse error"     // a packet that does not decode
	ReasonForcedClose    = "forced close"    // the server closed it (Session.Close, Server.Close)
)

// Errors a send can return.
var (
	ErrClosed       = errors.New("engine: session closed")
	ErrSlowConsumer = errors.New("engine: send buffer full (slow consumer)")
)

// RequestError is a refused Engine.IO request, answered with the protocol's
// JSON error body.
type RequestError struct {
	Status  int
	Code    int
	Message string
}

func (e *RequestError) Error() string { return fmt.Sprintf("engine: %s (code %d)", e.Message, e.Code) }

// The protocol's errors (Node's Server.errors and their messages).
var (
	errUnknownTransport    = &RequestError{http.StatusBadRequest, 0, "Transport unknown"}
	errUnknownSid          = &RequestError{http.StatusBadRequest, 1, "Session ID unknown"}
	errBadHandshakeMethod  = &RequestError{http.StatusBadRequest, 2, "Bad handshake method"}
	errBadRequest          = &RequestError{http.StatusBadRequest, 3, "Bad request"}
	errUnsupportedProtocol = &RequestError{http.StatusBadRequest, 5, "Unsupported protocol version"}
)

// Server is an Engine.IO server: an http.Handler for its mount path.
type Server struct {
	cfg     Config
	handler Handler
	log     *slog.Logger

	mu        sync.RWMutex
	sessions  map[string]*Session
	closed    bool
	closeOnce sync.Once

	timers  *timers
	flusher *flusher
	poller  *nbhttp.Engine
}

// New starts a server (its poller, flusher and timers); Close stops it.
func New(cfg Config, h Handler) (*Server, error) {
	d := Default()
	if cfg.PingInterval <= 0 {
		cfg.PingInterval = d.PingInterval
	}
	if cfg.PingTimeout <= 0 {
		cfg.PingTimeout = d.PingTimeout
	}
	if cfg.UpgradeTimeout <= 0 {
		cfg.UpgradeTimeout = d.UpgradeTimeout
	}
	if cfg.MaxPayload <= 0 {
		cfg.MaxPayload = d.MaxPayload
	}
	if cfg.MaxInbox <= 0 {
		cfg.MaxInbox = d.MaxInbox
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{cfg: cfg, handler: h, log: cfg.Logger.With("component", "engine"), sessions: make(map[string]*Session)}
	s.timers = newTimers(s.heartbeat)
	s.flusher = newFlusher()
	if err := s.startPoller(); err != nil {
		return nil, err
	}
	return s, nil
}

// Close ends every session (parked polling requests are answered with a
// close packet).
func (s *Server) Close() { s.closeOnce.Do(s.close) }

func (s *Server) close() {
	s.mu.Lock()
	s.closed = true
	all := make([]*Session, 0, len(s.sessions))
	for _, sess := range s.sessions {
		all = append(all, sess)
	}
	s.mu.Unlock()
	for _, sess := range all {
		sess.closeWith(ReasonForcedClose, closePacket)
	}
	s.flusher.stop()
	s.timers.stop()
}

// Count is the number of open sessions.
func (s *Server) Count() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.sessions)
}

// Session returns the open session with id.
func (s *Server) Session(id string) (*Session, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	sess, ok := s.sessions[id]
	return sess, ok
}

// ServeHTTP serves the mount path: handshakes, polling GETs and POSTs,
// websocket upgrades.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("EIO") != "4" {
		s.refuse(w, errUnsupportedProtocol)
		return
	}
	transport := q.Get("transport")
	if transport != "polling" && transport != "websocket" {
		s.refuse(w, errUnknownTransport)
		return
	}
	isUpgrade := headerHas(r.Header, "Upgrade", "websocket")
	if transport == "websocket" && !isUpgrade {
		s.refuse(w, errBadRequest)
		return
	}
	sid := q.Get("sid")
	if sid == "" {
		if r.Method != http.MethodGet {
			s.refuse(w, errBadHandshakeMethod)
			return
		}
		s.handshake(w, r, transport)
		return
	}
	sess, ok := s.Session(sid)
	if !ok {
		s.refuse(w, errUnknownSid)
		return
	}
	if transport == "websocket" {
		s.upgrade(w, r, sess)
		return
	}
	switch r.Method {
	case http.MethodGet:
		sess.poll(w, r)
	case http.MethodPost:
		sess.post(w, r)
	default:
		s.refuse(w, errBadRequest)
	}
}

// handshake opens a session on transport.
func (s *Server) handshake(w http.ResponseWriter, r *http.Request, transport string) {
	if s.cfg.AllowRequest != nil {
		if err := s.cfg.AllowRequest(r); err != nil {
			var re *RequestError
			if !errors.As(err, &re) {
				re = &RequestError{http.StatusForbidden, 4, err.Error()}
			}
			writeError(w, re)
			return
		}
	}
	sess := newSession(s, newID(), handshakeOf(r))
	upgrades := []string{"websocket"}
	if transport == "websocket" {
		upgrades = []string{}
	}
	open, _ := json.Marshal(struct {
		SID          string   `json:"sid"`
		Upgrades     []string `json:"upgrades"`
		PingInterval int64    `json:"pingInterval"`
		PingTimeout  int64    `json:"pingTimeout"`
		MaxPayload   int64    `json:"maxPayload"`
	}{sess.id, upgrades, s.cfg.PingInterval.Milliseconds(), s.cfg.PingTimeout.Milliseconds(), s.cfg.MaxPayload})

	if transport == "websocket" {
		// Registered and started first: a frame may arrive as soon as the
		// upgrade is answered, and Open goes ahead of it.
		if !s.register(sess) {
			s.refuse(w, errBadRequest)
			return
		}
		sess.start()
		wsc, err := s.upgradeFor(w, r, &wsOwner{sess: sess})
		if err != nil {
			s.log.Debug("websocket handshake failed", "err", err)
			sess.closeWith(ReasonTransportError, nil)
			return
		}
		sess.attachWebSocket(wsc, &Packet{kind: typeOpen, data: open})
		return
	}
	if !s.register(sess) {
		s.refuse(w, errBadRequest)
		return
	}
	sess.start()
	w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(open)+1))
	_, _ = w.Write(append([]byte{typeOpen}, open...))
}

func (s *Server) register(sess *Session) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.sessions[sess.id] = sess
	return true
}

func (s *Server) unregister(sess *Session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sessions, sess.id)
}

// newID is a session id as Node's base64id makes them: 15 random bytes, 20 characters.
func newID() string {
	var b [15]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// refuse answers a request with a protocol error, counted.
func (s *Server) refuse(w http.ResponseWriter, e *RequestError) {
	if f := s.cfg.Counters.Refused; f != nil {
		f(e)
	}
	writeError(w, e)
}

func writeError(w http.ResponseWriter, e *RequestError) {
	body, _ := json.Marshal(struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}{e.Code, e.Message})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.Status)
	_, _ = w.Write(body)
}

// headerHas reports whether the comma-separated header name lists token.
func headerHas(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for part := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(part), token) {
				return true
			}
		}
	}
	return false
}

// readBody reads a POST body up to limit bytes; ok is false when it is larger.
func readBody(r *http.Request, limit int64) (body []byte, ok bool, err error) {
	if r.ContentLength > limit {
		return nil, false, nil
	}
	body, err = io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, true, err
	}
	return body, int64(len(body)) <= limit, nil
}
