package hooks

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"
)

// The hook protocol, version 1 (docs/hooks.md is its reference). Every
// hook is a POST of a JSON body to {SOCKET_HOOKS_URL}/{connect|event|
// disconnect}, signed with the shared secret.
const (
	// Version is the protocol version, sent as HeaderVersion.
	Version = "1"
	// HeaderVersion carries Version.
	HeaderVersion = "X-Sockside-Hooks-Version"
	// HeaderTimestamp carries the request's time in Unix seconds.
	HeaderTimestamp = "X-Sockside-Timestamp"
	// HeaderSignature carries "v1=" and the hex HMAC-SHA256 of
	// timestamp + "." + body under the shared secret.
	HeaderSignature = "X-Sockside-Signature"
	// MaxSkew is how far a request's timestamp may be from the receiver's
	// clock before Verify refuses it (a captured request cannot be
	// replayed later than that).
	MaxSkew = 5 * time.Minute
)

// Sign returns the HeaderSignature value of body sent at timestamp (Unix
// seconds, as in HeaderTimestamp).
func Sign(secret []byte, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(timestamp))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "v1=" + hex.EncodeToString(mac.Sum(nil))
}

// Errors of Verify.
var (
	ErrBadSignature = errors.New("hooks: bad signature")
	ErrStale        = errors.New("hooks: timestamp too old or too far ahead")
)

// Verify checks a hook request's signature and timestamp against now, for
// receivers written in Go (the TypeScript package does the same). The
// comparison takes constant time.
func Verify(secret []byte, timestamp, signature string, body []byte, now time.Time) error {
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return ErrBadSignature
	}
	if d := now.Sub(time.Unix(ts, 0)); d > MaxSkew || d < -MaxSkew {
		return ErrStale
	}
	if !hmac.Equal([]byte(Sign(secret, timestamp, body)), []byte(signature)) {
		return ErrBadSignature
	}
	return nil
}

// RequestID returns a new random request id. Every request carries one,
// so two requests are never the same bytes (two identical events in one
// second would otherwise share a signature) and a receiver can refuse a
// replay by remembering the signatures or ids it saw within MaxSkew.
func RequestID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

// User is a socket's identity as hooks see and set it.
type User struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

// Handshake is what the client sent when it connected. Headers have
// lower-case names; the cookie travels as the hook request's own Cookie
// header instead (so the app's session helpers read it as in any route
// handler).
type Handshake struct {
	Auth    map[string]any    `json:"auth"`
	Query   map[string]string `json:"query"`
	Headers map[string]string `json:"headers"`
	Address string            `json:"address"`
	Time    int64             `json:"time"` // Unix milliseconds
}

// ConnectRequest is the body of the connect hook, sent once per socket per
// namespace before the client is told it is connected.
type ConnectRequest struct {
	ID        string    `json:"id"` // unique per request (see RequestID)
	Namespace string    `json:"namespace"`
	SID       string    `json:"sid"`
	User      User      `json:"user"` // the server's own idea (JWT or anonymous), which the answer may replace
	Handshake Handshake `json:"handshake"`
}

// ConnectAnswer accepts (OK) or refuses the socket. Accepted: User
// replaces the socket's user, Data is the socket's data, Join its first
// rooms, Relay the events the server rebroadcasts to the sender's rooms
// without asking the app. Refused: Error and Data reach the client's
// connect_error as its message and data.
type ConnectAnswer struct {
	OK    bool            `json:"ok"`
	User  *User           `json:"user,omitempty"`
	Data  json.RawMessage `json:"data,omitempty"`
	Join  []string        `json:"join,omitempty"`
	Relay []string        `json:"relay,omitempty"`
	Error string          `json:"error,omitempty"`
}

// SocketInfo is what every event and disconnect hook says of the socket.
type SocketInfo struct {
	Namespace string          `json:"namespace"`
	SID       string          `json:"sid"`
	User      User            `json:"user"`
	Data      json.RawMessage `json:"data"`
	Rooms     []string        `json:"rooms"`
}

// EventRequest is the body of the event hook: one client event, a socket's
// events one at a time, in the order they came.
type EventRequest struct {
	ID string `json:"id"` // unique per request (see RequestID)
	SocketInfo
	Event string `json:"event"`
	Args  []any  `json:"args"`
	Ack   bool   `json:"ack"` // whether the client waits for an ack
}

// EventAnswer is what the app wants done, applied in this order: Join,
// Leave, Data (when present, it replaces the socket's data), Emit, the ack
// (Ack's values as its arguments; none when absent), then Disconnect.
type EventAnswer struct {
	Ack        []any           `json:"ack,omitempty"`
	Join       []string        `json:"join,omitempty"`
	Leave      []string        `json:"leave,omitempty"`
	Emit       []Emit          `json:"emit,omitempty"`
	Data       json.RawMessage `json:"data,omitempty"`
	Disconnect bool            `json:"disconnect,omitempty"`
}

// Emit is one event an answer sends: to the sockets in To (rooms or socket
// ids; everyone in the namespace when empty) but those in Except, in
// Namespace (the socket's own when empty), on every node.
type Emit struct {
	Event     string   `json:"event"`
	Args      []any    `json:"args,omitempty"`
	To        []string `json:"to,omitempty"`
	Except    []string `json:"except,omitempty"`
	Namespace string   `json:"namespace,omitempty"`
}

// DisconnectRequest is the body of the disconnect hook, sent best effort
// after a socket has left, with Socket.IO's reason ("transport close",
// "client namespace disconnect", ...).
type DisconnectRequest struct {
	ID string `json:"id"` // unique per request (see RequestID)
	SocketInfo
	Reason string `json:"reason"`
}

// BinaryKey marks binary data in JSON: {"_sockside_binary": "<base64>"}
// stands for the bytes, in requests and in answers.
const BinaryKey = "_sockside_binary"

// encodeBinary replaces []byte in v, at any depth, by BinaryKey objects.
func encodeBinary(v any) any {
	switch t := v.(type) {
	case []byte:
		return map[string]string{BinaryKey: base64.StdEncoding.EncodeToString(t)}
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = encodeBinary(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = encodeBinary(e)
		}
		return out
	}
	return v
}

// decodeBinary replaces BinaryKey objects in v, at any depth, by their
// bytes; an object whose value is not base64 stays as it is.
func decodeBinary(v any) any {
	switch t := v.(type) {
	case []any:
		for i, e := range t {
			t[i] = decodeBinary(e)
		}
	case map[string]any:
		if s, ok := t[BinaryKey].(string); ok && len(t) == 1 {
			if b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s)); err == nil {
				return b
			}
		}
		for k, e := range t {
			t[k] = decodeBinary(e)
		}
	}
	return v
}
