package metrics

// Labels of the abuse limits (see docs/reliability.md).
const (
	// RejectRateLimited: a handshake over SOCKET_HANDSHAKE_RATE for its
	// client address (sockside_handshakes_rejected_total{reason}).
	RejectRateLimited = "rate_limited"
	// DropSlowConsumer: a websocket peer cut off with more than
	// SOCKET_SEND_BUFFER bytes queued (sockside_dropped_total{reason}).
	DropSlowConsumer = "slow_consumer"
)
