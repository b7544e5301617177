package engine

import (
	"bytes"
	"io"
	"testing"

	"github.com/zishang520/socket.io/parsers/engine/v3/packet"
	"github.com/zishang520/socket.io/parsers/engine/v3/parser"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// kinds maps the library's packet types to the type digits.
var kinds = map[packet.Type]byte{
	packet.OPEN: typeOpen, packet.CLOSE: typeClose, packet.PING: typePing, packet.PONG: typePong,
	packet.MESSAGE: typeMessage, packet.UPGRADE: typeUpgrade, packet.NOOP: typeNoop,
}

// FuzzDecodePayload: the library's Engine.IO v4 parser
// (github.com/zishang520/socket.io parsers/engine) is the oracle for
// long-polling payloads. Whatever decodePayload accepts, the library
// decodes into the same packets (type, data, binary or not); decodePayload
// may refuse more (empty records, data on packets that carry none, loose
// base64), and the payload it accepts re-encodes to itself.
func FuzzDecodePayload(f *testing.F) {
	for _, s := range []string{
		"4hello", "4hello\x1e4world", "bAQID", "4a\x1ebAQID\x1e3", "1", "3", "2probe", "6", "5",
		"", "\x1e", "4a\x1e\x1e4b", "9", "b!!", "bAQI", "1x", "4é", "40/chat,{\"a\":1}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := decodePayload(bytes.Clone(body))
		if err != nil {
			return
		}
		want, refErr := parser.Parserv4().DecodePayload(types.NewStringBuffer(bytes.Clone(body)))
		if refErr != nil {
			t.Fatalf("%q: accepted here, the library says %v", body, refErr)
		}
		if len(want) != len(got) {
			t.Fatalf("%q: %d packets here, %d from the library", body, len(got), len(want))
		}
		for i, w := range want {
			data, _ := io.ReadAll(w.Data)
			_, refBinary := w.Data.(*types.BytesBuffer)
			if kinds[w.Type] != got[i].kind || !bytes.Equal(data, got[i].data) || refBinary != got[i].binary {
				t.Fatalf("%q packet %d: got %c %q binary=%v, library %s %q binary=%v", body, i, got[i].kind, got[i].data, got[i].binary, w.Type, data, refBinary)
			}
		}
		// Accepted packets re-encode to the same payload.
		out := make([]*Packet, len(got))
		for i, p := range got {
			out[i] = &Packet{kind: p.kind, binary: p.binary, data: p.data}
		}
		if re := appendPayload(nil, out); !bytes.Equal(re, body) {
			t.Fatalf("%q re-encodes to %q", body, re)
		}
	})
}
