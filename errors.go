package sockside

import "fmt"

// RequestError is a client's mistake (a missing field, a room it is not
// in). A handler that returns one has its Message acked verbatim as
// {ok: false, error: Message}; other errors are logged and acked as
// "internal error", so that internals never reach clients.
type RequestError struct {
	Message string
}

func (e *RequestError) Error() string { return e.Message }

// ClientMessage is the text the client gets.
func (e *RequestError) ClientMessage() string { return e.Message }

// BadRequest returns a RequestError with a formatted message.
func BadRequest(format string, a ...any) error {
	return &RequestError{Message: fmt.Sprintf(format, a...)}
}

// ConnectError refuses a socket from a connect middleware (Namespace.Use):
// the client's connect_error handler gets an Error whose message is
// Message and whose data is Data (anything JSON can encode, or nil).
type ConnectError struct {
	Message string
	Data    any
}

func (e *ConnectError) Error() string { return e.Message }

// DisconnectEvent is the event a socket receives just before the server
// disconnects it on purpose (Socket.Disconnect, or the server's own
// reasons below), carrying a Disconnect.
const DisconnectEvent = "disconnect-reason"

// Disconnect explains a server-initiated disconnect. Codes are in the
// 4000-4999 range (as WebSocket application close codes are). After any of
// them socket.io-client reports "io server disconnect" and does not
// reconnect by itself; the code tells the application whether it should.
type Disconnect struct {
	Code   int    `json:"code"`
	Reason string `json:"reason"`
}

// DisconnectRateLimit is sent to a socket that kept sending events far
// above SOCKET_RATE_LIMIT after being refused. Reconnect after a pause.
var DisconnectRateLimit = Disconnect{Code: 4429, Reason: "rate limit exceeded"}
