package engine

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
)

// Packet types of Engine.IO v4 (engine.io-protocol v4-current.md), as the
// digit that starts a text packet.
const (
	typeOpen    = '0'
	typeClose   = '1'
	typePing    = '2'
	typePong    = '3'
	typeMessage = '4'
	typeUpgrade = '5'
	typeNoop    = '6'
)

// recordSeparator separates the packets of a long-polling payload.
const recordSeparator = 0x1e

// errBadPacket is any packet the protocol does not define.
var errBadPacket = errors.New("engine: bad packet")

// Packet is an outgoing Engine.IO packet, encoded once however many
// sessions and transports it goes to: a broadcast builds one and hands it to
// every receiver, and each websocket receiver appends the same frame bytes.
type Packet struct {
	kind   byte   // typeMessage, typePing, ...
	binary bool   // a binary message: data is the raw bytes
	data   []byte // the message's data, without the type digit

	frameOnce sync.Once
	frame     []byte // the websocket frame, built on first use
}

// Message is a packet carrying data: text (a UTF-8 string, in a text frame
// or as "4..." in a payload) or binary (a binary frame, or "b<base64>").
// The data must not change afterwards: it is shared by every receiver.
func Message(data []byte, binary bool) *Packet {
	return &Packet{kind: typeMessage, binary: binary, data: data}
}

// Control packets have no data and never change, so one of each serves every session.
var (
	pingPacket  = &Packet{kind: typePing}
	noopPacket  = &Packet{kind: typeNoop}
	closePacket = &Packet{kind: typeClose}
)

// size is what the packet counts against a session's send bound.
func (p *Packet) size() int64 { return int64(len(p.data)) + 1 }

// wsFrame is the packet as one unmasked server-to-client websocket frame
// (RFC 6455 section 5.2): a binary frame with the raw bytes for binary
// data, else a text frame with the type digit and the text.
func (p *Packet) wsFrame() []byte {
	p.frameOnce.Do(func() {
		if p.binary {
			p.frame = appendFrameHeader(make([]byte, 0, 10+len(p.data)), opBinary, len(p.data))
			p.frame = append(p.frame, p.data...)
			return
		}
		p.frame = appendFrameHeader(make([]byte, 0, 11+len(p.data)), opText, 1+len(p.data))
		p.frame = append(p.frame, p.kind)
		p.frame = append(p.frame, p.data...)
	})
	return p.frame
}

// Websocket opcodes of the frames the server writes itself.
const (
	opText   = 0x1
	opBinary = 0x2
)

func appendFrameHeader(dst []byte, opcode byte, n int) []byte {
	switch {
	case n < 126:
		return append(dst, 0x80|opcode, byte(n))
	case n <= 0xFFFF:
		return binary.BigEndian.AppendUint16(append(dst, 0x80|opcode, 126), uint16(n))
	default:
		return binary.BigEndian.AppendUint64(append(dst, 0x80|opcode, 127), uint64(n))
	}
}

// appendPayload appends packets as one long-polling payload: text packets
// as they are, binary ones as "b" and base64, separated by 0x1e.
func appendPayload(dst []byte, packets []*Packet) []byte {
	for i, p := range packets {
		if i > 0 {
			dst = append(dst, recordSeparator)
		}
		if p.binary {
			dst = append(dst, 'b')
			dst = base64.StdEncoding.AppendEncode(dst, p.data)
			continue
		}
		dst = append(dst, p.kind)
		dst = append(dst, p.data...)
	}
	return dst
}

// received is a packet from a client: its type and, for a message, the data.
type received struct {
	kind   byte
	binary bool
	data   []byte
}

// decodeText decodes one text packet (a websocket text frame, or one record
// of a payload), which the client sends with its type digit first.
func decodeText(b []byte) (received, error) {
	if len(b) == 0 {
		return received{}, fmt.Errorf("%w: empty", errBadPacket)
	}
	switch k := b[0]; k {
	case typeMessage, typePing, typePong, typeClose, typeUpgrade, typeNoop:
		if k != typeMessage && k != typePing && k != typePong && len(b) > 1 {
			return received{}, fmt.Errorf("%w: data on a %c packet", errBadPacket, k)
		}
		return received{kind: k, data: b[1:]}, nil
	default:
		return received{}, fmt.Errorf("%w: type %q", errBadPacket, k)
	}
}

// decodePayload splits a long-polling POST body into its packets: records
// separated by 0x1e, binary ones as "b" and base64.
func decodePayload(body []byte) ([]received, error) {
	if len(body) == 0 {
		return nil, fmt.Errorf("%w: empty payload", errBadPacket)
	}
	var out []received
	for rec := range bytes.SplitSeq(body, []byte{recordSeparator}) {
		if len(rec) > 0 && rec[0] == 'b' {
			if bytes.ContainsAny(rec, "\r\n") {
				return nil, fmt.Errorf("%w: line breaks in base64", errBadPacket) // which the decoder would skip
			}
			data, err := base64.StdEncoding.Strict().AppendDecode(nil, rec[1:])
			if err != nil {
				return nil, fmt.Errorf("%w: base64: %v", errBadPacket, err)
			}
			out = append(out, received{kind: typeMessage, binary: true, data: data})
			continue
		}
		p, err := decodeText(rec)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}
