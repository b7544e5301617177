package socketio

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"sync"
	"time"
)

// Recovery is connection state recovery (the reference server's
// connectionStateRecovery): a socket whose connection dropped and that
// comes back within MaxDisconnection gets its id, rooms and data back, and
// the broadcasts it missed meanwhile.
type Recovery struct {
	// MaxDisconnection is how long a session is kept; 0 turns recovery off.
	MaxDisconnection time.Duration
	// SkipAdmit lets a recovered socket in without Admit: its first
	// connect was admitted, and its data says who it is.
	SkipAdmit bool
	// MaxPackets and MaxBytes bound the broadcasts a namespace keeps in
	// memory for the sessions (defaults: 10,000, the length Node's streams
	// adapter gives its stream, and 32 MiB). A session whose offset was
	// dropped is not recovered (the client connects afresh, told so).
	MaxPackets int
	MaxBytes   int64
}

func (r Recovery) on() bool { return r.MaxDisconnection > 0 }

func (r Recovery) withDefaults() Recovery {
	if r.MaxPackets <= 0 {
		r.MaxPackets = 10_000
	}
	if r.MaxBytes <= 0 {
		r.MaxBytes = 32 << 20
	}
	return r
}

// recoverableReasons are the disconnects after which a session is kept:
// the connection was lost, not left (the reference server's list).
var recoverableReasons = map[string]bool{
	"transport error": true, "transport close": true, "forced close": true,
	"ping timeout": true, ReasonServerShuttingDown: true, "forced server close": true,
}

// Session is a disconnected socket's state, kept for its recovery.
type Session struct {
	SID   string   `msgpack:"sid"`
	PID   string   `msgpack:"pid"`   // the private id the client proves it is the socket with
	Rooms []string `msgpack:"rooms"` // its own id's room included, as Node stores them
	Data  any      `msgpack:"data"`
	// Missed are the broadcasts it missed, encoded with their offsets (on
	// restore only).
	Missed []Encoded `msgpack:"-"`
}

// SessionStore keeps sessions for recovery.
type SessionStore interface {
	// Persist keeps s for the recovery window.
	Persist(s Session) error
	// Restore takes session pid back with the broadcasts after offset that
	// it would have received: ErrNoSession when either is unknown or gone.
	Restore(pid, offset string) (*Session, error)
}

// ErrNoSession is a recovery that cannot be made: the session or the offset
// is unknown, expired or dropped. The client connects as a new socket.
var ErrNoSession = errors.New("socket.io: no session to recover")

// Included reports whether a broadcast to b reaches a socket in rooms (the
// reference adapters' shouldIncludePacket).
func (b Broadcast) Included(rooms []string) bool {
	in := len(b.Rooms) == 0
	for _, r := range rooms {
		for _, x := range b.Except {
			if r == x {
				return false
			}
		}
		if !in {
			for _, t := range b.Rooms {
				if r == t {
					in = true
					break
				}
			}
		}
	}
	return in
}

// WithOffset is e with offset appended to its data array, as a recoverable
// broadcast reaches clients (offsets need no JSON escaping: stream ids and
// base-36 numbers).
func (e Encoded) WithOffset(offset string) Encoded {
	end := bytes.LastIndexByte(e.Text, ']')
	if end < 0 {
		return e
	}
	text := make([]byte, 0, len(e.Text)+len(offset)+3)
	text = append(text, e.Text[:end]...)
	text = append(text, ',', '"')
	text = append(text, offset...)
	text = append(text, '"')
	text = append(text, e.Text[end:]...)
	return Encoded{Text: text, Attachments: e.Attachments}
}

// memStore is a namespace's recovery store in this node's memory: the
// sessions, and the recent broadcasts under offsets numbered in the order
// they were sent.
type memStore struct {
	cfg Recovery
	now func() time.Time

	mu       sync.Mutex
	first    uint64 // offset number of packets[0]
	packets  []storedPacket
	bytes    int64
	sessions map[string]storedSession
	byAge    []string // session pids in the order they were stored (their expiry order)
}

type storedPacket struct {
	at  time.Time
	enc Encoded
	b   Broadcast
}

type storedSession struct {
	Session
	expires time.Time
}

func newMemStore(cfg Recovery) *memStore {
	return &memStore{cfg: cfg.withDefaults(), now: time.Now, first: 1, sessions: make(map[string]storedSession)}
}

func formatOffset(n uint64) string { return strconv.FormatUint(n, 36) }

// deliver numbers a recoverable broadcast, keeps it and sends it (under the
// store's lock, so that every socket gets the offsets in their order).
func (m *memStore) deliver(enc Encoded, b Broadcast, send func(Encoded)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	e := enc.WithOffset(formatOffset(m.first + uint64(len(m.packets))))
	m.packets = append(m.packets, storedPacket{at: now, enc: e, b: b})
	m.bytes += e.size()
	m.evict(now)
	send(e)
}

func (e Encoded) size() int64 {
	n := int64(len(e.Text))
	for _, a := range e.Attachments {
		n += int64(len(a))
	}
	return n
}

// evict drops packets past the bounds or older than the window (no
// session can need them: a restore needs the offset it saw before it left)
// and expired sessions. Called with m.mu held.
func (m *memStore) evict(now time.Time) {
	drop := 0
	for drop < len(m.packets) && (len(m.packets)-drop > m.cfg.MaxPackets || m.bytes > m.cfg.MaxBytes ||
		now.Sub(m.packets[drop].at) > m.cfg.MaxDisconnection) {
		m.bytes -= m.packets[drop].enc.size()
		m.packets[drop] = storedPacket{}
		drop++
	}
	if drop > 0 {
		m.packets = m.packets[drop:]
		m.first += uint64(drop)
		if cap(m.packets) > 64 && len(m.packets) < cap(m.packets)/4 {
			m.packets = append([]storedPacket(nil), m.packets...) // let the old array go
		}
	}
	for len(m.byAge) > 0 {
		pid := m.byAge[0]
		if s, ok := m.sessions[pid]; ok && now.Before(s.expires) {
			break
		}
		if s, ok := m.sessions[pid]; ok && !now.Before(s.expires) {
			delete(m.sessions, pid)
		}
		m.byAge = m.byAge[1:]
	}
}

func (m *memStore) Persist(s Session) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	m.sessions[s.PID] = storedSession{Session: s, expires: now.Add(m.cfg.MaxDisconnection)}
	m.byAge = append(m.byAge, s.PID)
	m.evict(now)
	return nil
}

func (m *memStore) Restore(pid, offset string) (*Session, error) {
	n, err := strconv.ParseUint(offset, 36, 64)
	if err != nil {
		return nil, ErrNoSession
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	m.evict(now)
	st, ok := m.sessions[pid]
	if !ok {
		return nil, ErrNoSession
	}
	delete(m.sessions, pid) // one recovery per session
	// Every packet after the offset must still be here (the offset's own
	// may be gone: an old one on a quiet namespace); an offset this store
	// never gave is refused.
	if n+1 < m.first || n >= m.first+uint64(len(m.packets)) {
		return nil, ErrNoSession
	}
	s := st.Session
	for _, p := range m.packets[n+1-m.first:] {
		if p.b.Included(s.Rooms) {
			s.Missed = append(s.Missed, p.enc)
		}
	}
	return &s, nil
}

// recoveryAuth reads the private id and offset a recovering client adds to
// its CONNECT payload.
func recoveryAuth(auth json.RawMessage) (pid, offset string) {
	if len(auth) == 0 {
		return "", ""
	}
	var a struct {
		PID    any `json:"pid"`
		Offset any `json:"offset"`
	}
	if json.Unmarshal(auth, &a) != nil {
		return "", ""
	}
	pid, _ = a.PID.(string)
	offset, _ = a.Offset.(string)
	if pid == "" || offset == "" {
		return "", ""
	}
	return pid, offset
}

// restore takes back the session a recovering CONNECT names; nil when
// there is none to recover (or recovery is off).
func (n *Namespace) restore(auth json.RawMessage) *Session {
	if !n.srv.cfg.Recovery.on() {
		return nil
	}
	pid, offset := recoveryAuth(auth)
	if pid == "" {
		return nil
	}
	s, err := n.sessions().Restore(pid, offset)
	if err != nil {
		if !errors.Is(err, ErrNoSession) {
			n.srv.log.Warn("recovery failed: connecting as a new socket", "namespace", n.name, "err", err)
		}
		return nil
	}
	if _, taken := n.Socket(s.SID); taken {
		return nil // that id is connected (the same client twice): a new socket
	}
	return s
}
