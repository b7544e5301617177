package socketio

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/sockside/sockside/internal/engine"
)

// Config is the layer's settings; the engine's are inside.
type Config struct {
	Engine engine.Config
	Limits Limits
	// ConnectTimeout closes a session that has joined no namespace by then.
	ConnectTimeout time.Duration
	// AttachmentTimeout closes a session whose announced attachments have
	// not all arrived by then; 0: no bound.
	AttachmentTimeout time.Duration
	// Recovery is connection state recovery; off when its window is 0.
	Recovery Recovery
	// Adapter links each namespace to the other nodes; nil: one node.
	Adapter AdapterFor
	// DirectBroadcasts writes each broadcast frame at once, as a direct
	// emit is; else the frames a busy connection gets from a burst of
	// broadcasts wait for the engine's next write to that connection and
	// go out in one.
	DirectBroadcasts bool
}

// Disconnect reasons of this layer (the engine's close reasons pass through
// as they are: transport close, transport error, ping timeout, parse error,
// forced close).
const (
	ReasonServerNamespaceDisconnect = "server namespace disconnect"
	ReasonClientNamespaceDisconnect = "client namespace disconnect"
	ReasonServerShuttingDown        = "server shutting down"
)

// ConnectError refuses a CONNECT: the client's connect_error gets Message
// and Data.
type ConnectError struct {
	Message string
	Data    any
}

func (e *ConnectError) Error() string { return "connect refused: " + e.Message }

// errInvalidNamespace is what a CONNECT to a namespace nobody serves gets.
var errInvalidNamespace = &ConnectError{Message: "Invalid namespace"}

// Server is a Socket.IO server: an http.Handler for the engine's mount path.
type Server struct {
	cfg Config
	eng *engine.Server
	log *slog.Logger

	mu       sync.RWMutex
	nsps     map[string]*Namespace
	fallback func(name string) *Namespace // may create a namespace for a name nobody registered
}

// New starts a server; Close stops it.
func New(cfg Config) (*Server, error) {
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = 45 * time.Second
	}
	if cfg.Engine.Logger == nil {
		cfg.Engine.Logger = slog.Default()
	}
	s := &Server{cfg: cfg, log: cfg.Engine.Logger.With("component", "socket.io"), nsps: make(map[string]*Namespace)}
	eng, err := engine.New(cfg.Engine, (*engineHandler)(s))
	if err != nil {
		return nil, err
	}
	s.eng = eng
	return s, nil
}

// ServeHTTP serves the engine's requests.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.eng.ServeHTTP(w, r) }

// Engine is the Engine.IO server beneath.
func (s *Server) Engine() *engine.Server { return s.eng }

// Close ends every session: every socket disconnects ("server shutting
// down"), then the namespaces leave the cluster.
func (s *Server) Close() {
	s.eng.Close()
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, n := range s.nsps {
		if n.adapter != nil {
			n.adapter.Close()
		}
	}
}

// Of returns the namespace name, creating it on first use.
func (s *Server) Of(name string) *Namespace {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n, ok := s.nsps[name]; ok {
		return n
	}
	n := newNamespace(s, name)
	s.nsps[name] = n
	return n
}

// Lookup returns the namespace name if it exists.
func (s *Server) Lookup(name string) (*Namespace, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n, ok := s.nsps[name]
	return n, ok
}

// SetFallback makes resolve ask f for names nobody registered; f returns
// nil to refuse one (it may call Of to create it).
func (s *Server) SetFallback(f func(name string) *Namespace) {
	s.mu.Lock()
	s.fallback = f
	s.mu.Unlock()
}

func (s *Server) resolve(name string) *Namespace {
	if n, ok := s.Lookup(name); ok {
		return n
	}
	s.mu.RLock()
	f := s.fallback
	s.mu.RUnlock()
	if f == nil {
		return nil
	}
	return f(name)
}

// engineHandler is the server seen from the engine.
type engineHandler Server

func (h *engineHandler) Open(sess *engine.Session) {
	s := (*Server)(h)
	c := &conn{srv: s, sess: sess, dec: Decoder{limits: s.cfg.Limits}}
	c.mu.Lock()
	c.connectTimer = time.AfterFunc(s.cfg.ConnectTimeout, func() {
		if !c.hasSockets() {
			sess.Close()
		}
	})
	c.mu.Unlock()
	sess.SetValue(c)
}

func (h *engineHandler) Message(sess *engine.Session, data []byte, binary bool) {
	c, _ := sess.Value().(*conn)
	if c != nil {
		c.message(data, binary)
	}
}

// Upgrade tells the connection's sockets.
func (h *engineHandler) Upgrade(sess *engine.Session) {
	c, _ := sess.Value().(*conn)
	if c == nil {
		return
	}
	c.mu.Lock()
	sockets := append([]*Socket(nil), c.sockets...)
	c.mu.Unlock()
	for _, s := range sockets {
		if h := s.ns.getHooks(); h.Upgraded != nil {
			h.Upgraded(s)
		}
	}
}

func (h *engineHandler) Close(sess *engine.Session, reason string) {
	if c, _ := sess.Value().(*conn); c != nil {
		if reason == engine.ReasonForcedClose {
			reason = ReasonServerShuttingDown
		}
		c.closed(reason)
	}
}

// conn is one Engine.IO session and the namespaces it joined.
//
// Its methods run on the session's handler goroutine (one at a time), except
// the sends, which take mu.
type conn struct {
	srv  *Server
	sess *engine.Session
	dec  Decoder

	attachTimer *time.Timer

	mu           sync.Mutex
	connectTimer *time.Timer // until the first CONNECT; nil after
	sockets      []*Socket   // usually one
}

// stopConnectTimer ends the connect timeout (and lets its timer go).
func (c *conn) stopConnectTimer() {
	c.mu.Lock()
	t := c.connectTimer
	c.connectTimer = nil
	c.mu.Unlock()
	if t != nil {
		t.Stop()
	}
}

func (c *conn) hasSockets() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.sockets) > 0
}

func (c *conn) socket(nsp string) *Socket {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.sockets {
		if s.ns.name == nsp {
			return s
		}
	}
	return nil
}

func (c *conn) remove(s *Socket) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, o := range c.sockets {
		if o == s {
			c.sockets = append(c.sockets[:i], c.sockets[i+1:]...)
			return
		}
	}
}

// message decodes one engine message and acts on the packet.
func (c *conn) message(data []byte, binary bool) {
	var p *Packet
	var err error
	if binary {
		p, err = c.dec.Binary(data)
	} else {
		p, err = c.dec.Text(data)
	}
	if err != nil {
		c.srv.log.Debug("closing a connection: bad packet", "sid", c.sess.ID(), "err", err)
		c.sess.Close()
		return
	}
	c.watchAttachments()
	if p == nil {
		return
	}
	switch p.Type {
	case typeConnect:
		c.connect(p)
	case typeDisconnect:
		if s := c.socket(p.Namespace); s != nil {
			s.leave(ReasonClientNamespaceDisconnect, false)
		}
	case typeEvent, typeBinaryEvent:
		s := c.socket(p.Namespace)
		if s == nil {
			// An event for a namespace the connection never joined: the
			// reference server closes the connection.
			c.sess.Close()
			return
		}
		s.event(p)
	case typeAck, typeBinaryAck:
		if s := c.socket(p.Namespace); s != nil {
			s.acked(p)
		}
	default:
		c.sess.Close()
	}
}

// watchAttachments bounds how long announced attachments may take.
func (c *conn) watchAttachments() {
	t := c.srv.cfg.AttachmentTimeout
	if t <= 0 {
		return
	}
	switch {
	case c.dec.Waiting() && c.attachTimer == nil:
		c.attachTimer = time.AfterFunc(t, c.sess.Close)
	case !c.dec.Waiting() && c.attachTimer != nil:
		c.attachTimer.Stop()
		c.attachTimer = nil
	}
}

// connect handles a CONNECT: the namespace's middleware decides, then the
// client gets its socket id (or the refusal).
func (c *conn) connect(p *Packet) {
	n := c.srv.resolve(p.Namespace)
	if n == nil {
		c.sendText(encodeConnectError(p.Namespace, errInvalidNamespace.Message, nil))
		return
	}
	if c.socket(n.name) != nil {
		return // already connected to it: the reference server ignores the repeat
	}
	s := newSocket(n, c, p.Data)
	session := n.restore(p.Data)
	if session != nil {
		s.id, s.pid, s.data, s.recovered = session.SID, session.PID, session.Data, true
	}
	if session == nil || !c.srv.cfg.Recovery.SkipAdmit {
		if !c.admit(n, s) {
			return
		}
	}
	c.mu.Lock()
	c.sockets = append(c.sockets, s)
	c.mu.Unlock()
	c.stopConnectTimer()
	n.add(s)
	if session != nil {
		s.Join(session.Rooms...)
	}
	// The client learns it is connected once the Connected hook has run
	// (its joins done): what the socket is sent meanwhile, the hook's own
	// emits and broadcasts from elsewhere, waits until the CONNECT (and the
	// missed broadcasts of a recovery) have gone out.
	n.connected(s)
	first := []*engine.Packet{engine.Message(encodeConnect(n.name, s.id, s.pid), false)}
	if session != nil {
		for _, e := range session.Missed {
			first = append(first, e.packets()...)
		}
	}
	s.open(first)
}

// admit runs the namespace's Admit; false when it refused (the client has
// been told).
func (c *conn) admit(n *Namespace, s *Socket) bool {
	if err := n.admit(s); err != nil {
		var ce *ConnectError
		if !errors.As(err, &ce) {
			c.srv.log.Error("connect middleware failed", "namespace", n.name, "err", err)
			ce = &ConnectError{Message: "internal error"}
		}
		c.sendText(encodeConnectError(n.name, ce.Message, ce.Data))
		return false
	}
	return true
}

// closed disconnects every socket of the connection with the engine's reason.
func (c *conn) closed(reason string) {
	c.stopConnectTimer()
	if c.attachTimer != nil {
		c.attachTimer.Stop()
	}
	c.mu.Lock()
	sockets := append([]*Socket(nil), c.sockets...)
	c.mu.Unlock()
	for _, s := range sockets {
		s.leave(reason, false)
	}
}

func (c *conn) sendText(b []byte) {
	_ = c.sess.Send(engine.Message(b, false))
}

// send sends engine packets in order.
func (c *conn) send(packets []*engine.Packet) error {
	for _, p := range packets {
		if err := c.sess.Send(p); err != nil {
			return err
		}
	}
	return nil
}

// errNotConnected is what emitting on a socket that left returns.
var errNotConnected = errors.New("socket.io: socket not connected")

// Auth decodes the CONNECT payload (the client's auth) into a map; nil when it sent none.
func (s *Socket) Auth() map[string]any {
	if len(s.auth) == 0 {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(s.auth, &m); err != nil {
		return nil
	}
	return m
}
