package engineio

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/zishang520/socket.io/v3/pkg/types"
)

// Frame headers use the shortest length encoding RFC 6455 allows, at each
// boundary, and carry the payload unmasked.
func TestAppendFrameLengths(t *testing.T) {
	for _, n := range []int{0, 1, 125, 126, 127, 0xFFFF, 0x10000, 200_000} {
		payload := bytes.Repeat([]byte{'x'}, n)
		f := appendFrame(nil, opText, payload)
		if f[0] != 0x81 {
			t.Fatalf("n=%d: first byte %#x, want FIN|text", n, f[0])
		}
		var length, header int
		switch l := int(f[1]); {
		case l&0x80 != 0:
			t.Fatalf("n=%d: mask bit set on a server frame", n)
		case l < 126:
			length, header = l, 2
			if n >= 126 {
				t.Fatalf("n=%d: 7-bit length %d", n, l)
			}
		case l == 126:
			length, header = int(binary.BigEndian.Uint16(f[2:])), 4
			if n < 126 || n > 0xFFFF {
				t.Fatalf("n=%d: 16-bit length used", n)
			}
		default:
			length, header = int(binary.BigEndian.Uint64(f[2:])), 10
			if n <= 0xFFFF {
				t.Fatalf("n=%d: 64-bit length used", n)
			}
		}
		if length != n || len(f) != header+n || !bytes.Equal(f[header:], payload) {
			t.Fatalf("n=%d: header says %d, frame %d bytes", n, length, len(f))
		}
	}
}

// A broadcast's buffer maps to one frame for all its receivers, built once;
// another buffer with the same text is another broadcast.
func TestSharedFramesOnePerBroadcast(t *testing.T) {
	c := sharedFrames{frames: map[types.BufferInterface][]byte{}}
	a := types.NewStringBufferString(`42["message","a"]`)
	b := types.NewStringBufferString(`42["message","a"]`)
	fa := c.frame(a)
	fb := c.frame(b)
	if &fa[0] == &fb[0] {
		t.Fatal("two broadcasts share a frame")
	}
	for range 3 {
		if f := c.frame(a); &f[0] != &fa[0] { // through the map, not only the last entry
			t.Fatal("a broadcast's frame was built again")
		}
		if f := c.frame(b); &f[0] != &fb[0] {
			t.Fatal("a broadcast's frame was built again")
		}
	}
	if !bytes.Equal(fa, appendFrame(nil, opText, a.Bytes())) {
		t.Fatalf("frame %q", fa)
	}
	// Bounded: it starts over when full, and big payloads are not kept.
	for range 2 * sharedFramesMax {
		c.frame(types.NewStringBufferString("x"))
	}
	big := types.NewStringBufferString(strings.Repeat("y", sharedFrameMaxPayload+1))
	c.frame(big)
	if len(c.frames) > sharedFramesMax {
		t.Fatalf("%d frames kept, bound %d", len(c.frames), sharedFramesMax)
	}
	if _, ok := c.frames[big]; ok {
		t.Fatal("a payload over the bound was kept")
	}
	if bf := c.frame(types.NewBytesBuffer([]byte{1, 2})); bf[0] != 0x82 {
		t.Fatalf("bytes went out as opcode %#x, want binary", bf[0]&0x0F)
	}
}
