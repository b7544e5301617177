package sockside

import (
	"testing"

	"github.com/sockside/sockside/internal/sio"
)

// The public names of the server's own disconnects are what the Socket.IO
// layer sends.
func TestDisconnectsMatchTheSocketIOLayer(t *testing.T) {
	if DisconnectEvent != sio.DisconnectEvent {
		t.Errorf("DisconnectEvent %q, the layer sends %q", DisconnectEvent, sio.DisconnectEvent)
	}
	if got, want := DisconnectRateLimit, (Disconnect{Code: sio.DisconnectRateLimit.Code, Reason: sio.DisconnectRateLimit.Reason}); got != want {
		t.Errorf("DisconnectRateLimit %+v, the layer sends %+v", got, want)
	}
}
