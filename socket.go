package sockside

import (
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/sockside/sockside/internal/auth"
	"github.com/sockside/sockside/internal/sio"
	"github.com/sockside/sockside/internal/socketio"
)

// Socket is one client connected to one namespace. The same *Socket is
// passed to every hook and handler of that connection, so it can be used
// as a map key. Its methods are safe for concurrent use.
type Socket struct {
	c *sio.Client
}

// ID is the socket's id (socket.id on the client), unique per namespace
// connection; a recovered socket keeps its id.
func (s *Socket) ID() string { return s.c.ID() }

// Namespace is the name of the socket's namespace.
func (s *Socket) Namespace() string { return s.c.Namespace() }

// User is who the socket is (see ConnectRequest.User).
func (s *Socket) User() User { return User(s.c.User) }

// Transport is the socket's current transport: "polling" or "websocket"
// (it changes once, when the client upgrades), "" after it left.
func (s *Socket) Transport() string { return s.c.Transport() }

// Recovered reports whether connection state recovery restored this socket
// (same id, rooms and missed events) rather than connecting it afresh.
func (s *Socket) Recovered() bool { return s.c.Recovered() }

// Data is the application's data for the socket: what a connect
// middleware (ConnectRequest.Data) or SetData stored, nil otherwise. It
// survives a connection state recovery; when the session came back through
// Redis it is decoded from JSON (maps, slices, float64s, strings).
func (s *Socket) Data() any { return s.c.Data() }

// SetData replaces the application's data for the socket; keep it small
// and JSON-encodable (it is stored with the session for recovery).
func (s *Socket) SetData(v any) { s.c.SetData(v) }

// Connected reports whether the socket is still connected.
func (s *Socket) Connected() bool { return s.c.Connected() }

// Rooms lists the rooms the socket is in, sorted, without the room named
// after its own id that every socket is in.
func (s *Socket) Rooms() []string { return s.c.Rooms() }

// In reports whether the socket is in room.
func (s *Socket) In(room string) bool { return s.c.In(room) }

// Join puts the socket in rooms (on this node; broadcasts reach it from
// every node).
func (s *Socket) Join(rooms ...string) { s.c.Join(rooms...) }

// Leave takes the socket out of room.
func (s *Socket) Leave(room string) { s.c.Leave(room) }

// Emit sends an event to this socket alone. For declared events, prefer
// Emitter.ToSocket.
func (s *Socket) Emit(event string, args ...any) error { return s.c.Emit(event, args...) }

// Disconnect disconnects the socket on purpose: the client first gets a
// "disconnect-reason" event carrying d, then the namespace disconnect.
// socket.io-client does not reconnect by itself after a server-side
// disconnect; d.Code tells the application whether it should. Called from
// one of the socket's handlers, it takes effect once that handler's ack
// has been sent.
func (s *Socket) Disconnect(d Disconnect) {
	s.c.Kick(sio.Disconnect{Code: d.Code, Reason: d.Reason, Label: "application"})
}

// Handshake is what the client sent when it connected.
func (s *Socket) Handshake() Handshake { return handshakeOf(s.c.Socket()) }

// Log is the server's logger with the socket's namespace, id and user.
func (s *Socket) Log() *slog.Logger { return s.c.Log() }

// Handshake is what a client sent when its connection was opened.
type Handshake struct {
	// Auth is the auth payload of io(url, {auth}), or nil.
	Auth map[string]any
	// Query is the query string of the connection's first request.
	Query url.Values
	// Headers are the headers of the connection's first request (cookies
	// included: through Next's rewrite, the page's own cookies).
	Headers http.Header
	// Address is the client's address as the server saw it (through a
	// proxy, the proxy's).
	Address string
	// Time is when the connection was opened.
	Time time.Time
}

func handshakeOf(s *socketio.Socket) Handshake {
	hs := s.Session().Handshake()
	return Handshake{
		Auth:    s.Auth(),
		Query:   hs.Query(),
		Headers: hs.Header(),
		Address: hs.Addr,
		Time:    hs.Time,
	}
}

// User is a socket's identity.
type User struct {
	// ID is the JWT's subject with auth on; the socket id for anonymous
	// users.
	ID string `json:"id"`
	// Name is the JWT's name claim, or the name an anonymous client offers
	// (auth: {name}), at most 32 characters.
	Name string `json:"name"`
}

// Display is how the user should appear to others: the name, else the id.
func (u User) Display() string { return auth.User(u).Display() }
