package sio

// DisconnectEvent is the event a socket receives just before the server
// disconnects it on purpose, carrying a Disconnect.
const DisconnectEvent = "disconnect-reason"

// Disconnect explains a server-initiated disconnect. Codes are in the
// 4000-4999 range (as in WebSocket application close codes). After any of
// them socket.io-client sees "io server disconnect" and does not reconnect
// by itself; the code tells the application whether it should.
type Disconnect struct {
	Code   int    `json:"code"`
	Reason string `json:"reason"`
	// Label is the metrics label (sockside_dropped_total{reason}).
	Label string `json:"-"`
}

var (
	// DisconnectRateLimit: the socket kept sending events far above
	// SOCKET_RATE_LIMIT after being refused. Reconnect after a pause.
	DisconnectRateLimit = Disconnect{Code: 4429, Reason: "rate limit exceeded", Label: "rate_limit_disconnect"}
)
