package engineio

import (
	"bytes"
	"io"
	"testing"

	"github.com/zishang520/socket.io/parsers/engine/v3/packet"
	"github.com/zishang520/socket.io/parsers/engine/v3/parser"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// Engine.IO input as it reaches the server: a polling POST body (payload,
// packets separated by 0x1e, binary as "b"+base64) and websocket frames
// (one packet each, text or binary). Shapes from socket.io-client 4.8
// traffic.
var engineSeeds = []string{
	"2", "3", "3probe", "5", "6", "1",
	"40", `40{"token":"abc"}`, "40/chat,", `40/chat,{"name":"ann"}`,
	`42["chat","hello"]`, `420["echo",1,"two",{"three":[3]}]`, `42/chat,7["message",{"room":"lobby","text":"hi"}]`,
	`451-["e",{"_placeholder":true,"num":0}]`, "bAQID", "bAAECAwQFBgcICQ==",
	`431[{"ok":true}]`, "41", "41/chat,",
	"40\x1e42[\"a\"]\x1e3", "3\x1e2\x1e" + `42["chat",{"text":"a\u001eb"}]`,
	`451-["e",{"_placeholder":true,"num":0}]` + "\x1ebAQID",
	"\x1e\x1e\x1e", "4", "b", "b!!!!", "7", "", "x", "4\xff\xfe", "\x00\x01\x02",
}

// FuzzEnginePayload decodes a polling POST body with the protocol 4 parser
// the library's polling transport and onDataRequest use. No panic; what
// decodes re-encodes to a payload that decodes to the same packets.
func FuzzEnginePayload(f *testing.F) {
	for _, s := range engineSeeds {
		f.Add([]byte(s))
	}
	p := parser.Parserv4()
	f.Fuzz(func(t *testing.T, body []byte) {
		packets, err := p.DecodePayload(types.NewStringBuffer(body))
		if len(packets) > len(body) {
			t.Fatalf("%d packets from %d bytes", len(packets), len(body))
		}
		if err != nil {
			return
		}
		for _, pk := range packets {
			if pk == nil || pk.Type == packet.ERROR {
				t.Fatalf("decoded without error into %v", packets)
			}
		}
		again, err := p.EncodePayload(packets)
		if err != nil {
			t.Fatalf("re-encoding %v: %v", packets, err)
		}
		round, err := p.DecodePayload(again)
		if err != nil {
			t.Fatalf("re-encoded payload %q does not decode: %v", again, err)
		}
		if !samePackets(packetsData(t, round), packetsData(t, packetsFrom(body))) {
			t.Fatalf("round trip changed %q into %q", body, again)
		}
	})
}

// packetsFrom decodes body again (DecodePayload consumed the data of the
// first decode's packets while re-encoding).
func packetsFrom(body []byte) []*packet.Packet {
	packets, _ := parser.Parserv4().DecodePayload(types.NewStringBuffer(body))
	return packets
}

type flatPacket struct {
	typ    packet.Type
	binary bool
	data   string
}

func packetsData(t *testing.T, packets []*packet.Packet) []flatPacket {
	t.Helper()
	out := make([]flatPacket, 0, len(packets))
	for _, pk := range packets {
		fp := flatPacket{typ: pk.Type}
		if pk.Data != nil {
			b, err := io.ReadAll(pk.Data)
			if err != nil {
				t.Fatalf("reading packet data: %v", err)
			}
			_, fp.binary = pk.Data.(*types.BytesBuffer)
			fp.data = string(b)
		}
		out = append(out, fp)
	}
	return out
}

func samePackets(a, b []flatPacket) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// FuzzEnginePacket decodes one websocket frame as the library's transport
// does (Transport.OnData: text frames as strings, binary frames as bytes)
// with both protocol parsers, and a protocol 3 payload (only reachable with
// allowEIO3, off here; decoded anyway since it is the same library).
func FuzzEnginePacket(f *testing.F) {
	for _, s := range engineSeeds {
		f.Add([]byte(s), false)
	}
	f.Add([]byte{0x01, 0x02, 0x03}, true)
	f.Add([]byte("4:42"), false)
	f.Add([]byte("\x00\x04\xff4hello"), true)
	f.Add([]byte("11:42[\"a\",1]2:40"), false)
	v4, v3 := parser.Parserv4(), parser.Parserv3()
	f.Fuzz(func(t *testing.T, frame []byte, binary bool) {
		for _, p := range []parser.Parser{v4, v3} {
			var data types.BufferInterface = types.NewStringBuffer(bytes.Clone(frame))
			if binary {
				data = types.NewBytesBuffer(bytes.Clone(frame))
			}
			pk, err := p.DecodePacket(data)
			if pk == nil {
				t.Fatalf("protocol %d: nil packet (err %v) for %q", p.Protocol(), err, frame)
			}
			if err == nil && pk.Data != nil {
				b, _ := io.ReadAll(pk.Data)
				if len(b) > len(frame) {
					t.Fatalf("protocol %d: %d data bytes from a %d-byte frame", p.Protocol(), len(b), len(frame))
				}
			}
		}
		packets, _ := v3.DecodePayload(types.NewStringBuffer(bytes.Clone(frame)))
		if len(packets) > len(frame)+1 {
			t.Fatalf("protocol 3: %d packets from %d bytes", len(packets), len(frame))
		}
		_, _ = v3.DecodePayload(types.NewBytesBuffer(bytes.Clone(frame)))
	})
}
