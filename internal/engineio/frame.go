package engineio

import (
	"encoding/binary"
	"sync"
	"sync/atomic"

	"github.com/zishang520/socket.io/v3/pkg/types"
)

// Websocket opcodes (RFC 6455 section 5.2) of the frames the server writes.
const (
	opText   = 0x1
	opBinary = 0x2
	opClose  = 0x8
	opPong   = 0xA
)

// appendFrame appends one unfragmented, unmasked (server-to-client) frame.
func appendFrame(dst []byte, opcode byte, payload []byte) []byte {
	n := len(payload)
	switch {
	case n < 126:
		dst = append(dst, 0x80|opcode, byte(n))
	case n <= 0xFFFF:
		dst = append(dst, 0x80|opcode, 126)
		dst = binary.BigEndian.AppendUint16(dst, uint16(n))
	default:
		dst = append(dst, 0x80|opcode, 127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	return append(dst, payload...)
}

// dataFrame is the frame carrying an encoded Engine.IO packet: text for a
// string, binary for bytes, as the library's transport chooses.
func dataFrame(data types.BufferInterface) []byte {
	op := byte(opBinary)
	if _, ok := data.(*types.StringBuffer); ok {
		op = opText
	}
	payload := data.Bytes()
	return appendFrame(make([]byte, 0, len(payload)+10), op, payload)
}

// Bounds of sharedFrames.
const (
	sharedFramesMax       = 256     // entries; then it starts over
	sharedFrameMaxPayload = 1 << 16 // bigger frames are built per connection
)

// sharedFrames turns a broadcast's pre-encoded packet into one websocket
// frame for all its receivers.
//
// Why: the Socket.IO adapter encodes a broadcast packet once and hands the
// very same buffer (packet.Options.WsPreEncodedFrame) to every receiving
// socket; the library's transport then built a frame from it per socket
// (gorilla's PreparedMessage, whose cache lives in the message and so was
// never reused). Keyed by that buffer's identity, the frame is built by the
// first receiver and shared, read-only, by the rest.
//
// The map holds its keys, so a key's address cannot be reused for another
// buffer while it is in there; starting over when full bounds what it pins
// to sharedFramesMax frames of at most sharedFrameMaxPayload.
//
// A broadcast's receivers are served one after the other, so the last frame
// built or found is kept apart too and answers most lookups without the
// lock.
type sharedFrames struct {
	last atomic.Pointer[sharedFrame]

	mu     sync.Mutex
	frames map[types.BufferInterface][]byte
}

type sharedFrame struct {
	key   types.BufferInterface
	frame []byte
}

var broadcastFrames = sharedFrames{frames: make(map[types.BufferInterface][]byte)}

func (c *sharedFrames) frame(data types.BufferInterface) []byte {
	if last := c.last.Load(); last != nil && last.key == data {
		return last.frame
	}
	if data.Len() > sharedFrameMaxPayload {
		return dataFrame(data)
	}
	c.mu.Lock()
	f, ok := c.frames[data]
	if !ok {
		if len(c.frames) >= sharedFramesMax {
			clear(c.frames)
		}
		f = dataFrame(data)
		c.frames[data] = f
	}
	c.mu.Unlock()
	c.last.Store(&sharedFrame{key: data, frame: f})
	return f
}
