// Package socketio is sockside's Socket.IO v5 layer (socketio/socket.io-protocol
// v5-current.md) on internal/engine: the packet codec, namespaces, CONNECT
// with auth, events and acks in both directions, binary attachments, rooms
// and broadcasts.
package socketio

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// Packet types of Socket.IO v5.
const (
	typeConnect      = 0
	typeDisconnect   = 1
	typeEvent        = 2
	typeAck          = 3
	typeConnectError = 4
	typeBinaryEvent  = 5
	typeBinaryAck    = 6
)

// noID marks a packet without an ack id.
const noID = -1

// Bounds of the header that the protocol's reference decoder applies too.
const (
	maxNamespaceLength = 512
	maxIDDigits        = 19 // fits an int64; the library refuses 20 digits
)

// reservedEvents may not be sent by a client (the reference decoders refuse them).
var reservedEvents = map[string]bool{
	"connect": true, "connect_error": true, "disconnect": true, "disconnecting": true,
	"newListener": true, "removeListener": true,
}

// Limits bound what one packet from a client may carry.
type Limits struct {
	// MaxDepth is the deepest JSON nesting of a payload (an event's
	// argument array is level 1). A deeper event is refused with an error
	// ack (Packet.Refused); a deeper CONNECT or ack is a decode error.
	MaxDepth int
	// MaxEventName is the longest event name in bytes; longer events are refused.
	MaxEventName int
	// MaxAttachments is the most binary attachments a packet may announce.
	MaxAttachments int
	// MaxAttachmentBytes bounds the sum of one packet's attachments; 0: none.
	MaxAttachmentBytes int64
}

// Decode errors (each ends the connection, as with the reference server).
var (
	ErrBadPacket           = errors.New("socket.io: bad packet")
	ErrTooDeep             = errors.New("socket.io: payload nested too deep")
	ErrAttachmentsTooLarge = errors.New("socket.io: binary attachments too large")
	ErrUnexpectedBinary    = errors.New("socket.io: binary data without a packet announcing it")
	ErrUnexpectedText      = errors.New("socket.io: text packet while attachments are due")
)

// Packet is a decoded client packet.
type Packet struct {
	Type      int
	Namespace string
	ID        int64 // noID when the packet carries none
	// Data is the JSON payload as received (nil when there is none); for
	// an event, the array whose first element is the name.
	Data json.RawMessage
	// Event is an event's name (EVENT and BINARY_EVENT).
	Event string
	// Attachments are a binary packet's buffers, in placeholder order.
	Attachments [][]byte
	// Refused, when set, says why an event over a limit is not delivered:
	// the server acks it with that error instead (its header is intact).
	Refused string
	// RefusedLabel is Refused as a metrics label.
	RefusedLabel string

	want int   // attachments announced
	args []any // a binary packet's arguments, reconstructed when it completed
}

func badPacket(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrBadPacket, fmt.Sprintf(format, a...))
}

// Decoder decodes one connection's packets: text packets, and the binary
// attachments that follow a BINARY_EVENT or BINARY_ACK. Not safe for
// concurrent use (a session's messages come one at a time).
type Decoder struct {
	limits  Limits
	pending *Packet // a binary packet waiting for attachments
	bytes   int64   // of its attachments so far
}

// NewDecoder returns a decoder applying l.
func NewDecoder(l Limits) *Decoder { return &Decoder{limits: l} }

// Waiting reports whether a binary packet waits for its attachments.
func (d *Decoder) Waiting() bool { return d.pending != nil }

// Text decodes a text message; the packet is nil while a binary packet
// waits for its attachments.
func (d *Decoder) Text(b []byte) (*Packet, error) {
	if d.pending != nil {
		return nil, ErrUnexpectedText
	}
	p, err := decodeText(b, d.limits)
	if err != nil {
		return nil, err
	}
	if p.want > 0 {
		d.pending, d.bytes = p, 0
		return nil, nil
	}
	if p.Type == typeBinaryEvent || p.Type == typeBinaryAck {
		if _, err := p.Args(); err != nil {
			return nil, err // placeholders, but no attachments announced
		}
	}
	return p, nil
}

// Binary takes an attachment; the packet is returned once it has them all.
func (d *Decoder) Binary(b []byte) (*Packet, error) {
	p := d.pending
	if p == nil {
		return nil, ErrUnexpectedBinary
	}
	d.bytes += int64(len(b))
	if m := d.limits.MaxAttachmentBytes; m > 0 && d.bytes > m {
		d.pending = nil
		return nil, ErrAttachmentsTooLarge
	}
	p.Attachments = append(p.Attachments, b)
	if len(p.Attachments) < p.want {
		return nil, nil
	}
	d.pending = nil
	if _, err := p.Args(); err != nil {
		return nil, err // a placeholder without its attachment
	}
	return p, nil
}

// decodeText decodes a packet's header and checks its payload, as the
// protocol's decoders do: type digit; for binary types the attachment count
// and "-"; "/namespace," (to the end when there is no comma); the ack id's
// digits; then one JSON value, which must be all that is left.
func decodeText(b []byte, l Limits) (*Packet, error) {
	if len(b) == 0 || b[0] < '0' || b[0] > '6' {
		return nil, badPacket("unknown packet type")
	}
	p := &Packet{Type: int(b[0] - '0'), Namespace: "/", ID: noID}
	i := 1
	if p.Type == typeBinaryEvent || p.Type == typeBinaryAck {
		dash := bytes.IndexByte(b[i:], '-')
		if dash <= 0 {
			return nil, badPacket("illegal attachments")
		}
		n, err := strconv.ParseUint(string(b[i:i+dash]), 10, 64)
		if err != nil {
			return nil, badPacket("illegal attachments")
		}
		if n > uint64(l.MaxAttachments) {
			return nil, badPacket("%d attachments (at most %d)", n, l.MaxAttachments)
		}
		p.want = int(n)
		i += dash + 1
	}
	if i < len(b) && b[i] == '/' {
		end := bytes.IndexByte(b[i:], ',')
		if end < 0 {
			end = len(b) - i
		}
		if end > maxNamespaceLength {
			return nil, badPacket("namespace longer than %d bytes", maxNamespaceLength)
		}
		p.Namespace = string(b[i : i+end])
		i += end
		if i < len(b) {
			i++ // the comma
		}
	}
	start := i
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	if i > start {
		if i-start > maxIDDigits {
			return nil, badPacket("ack id longer than %d digits", maxIDDigits)
		}
		id, err := strconv.ParseInt(string(b[start:i]), 10, 64)
		if err != nil {
			return nil, badPacket("ack id: %v", err)
		}
		p.ID = id
	}
	if i < len(b) {
		p.Data = json.RawMessage(b[i:])
	}
	return p, checkPayload(p, l)
}

// checkPayload validates the payload for the packet's type (the reference
// parser's isPayloadValid) and applies the limits.
func checkPayload(p *Packet, l Limits) error {
	if p.Data == nil {
		switch p.Type {
		case typeConnect, typeDisconnect:
			return nil
		default:
			return badPacket("type %d needs a payload", p.Type)
		}
	}
	depth := jsonDepth(p.Data)
	// An event nested past the limit is refused (acked with an error)
	// without a full parse: a payload can be 100,000 levels deep within
	// MaxPayload, past what encoding/json parses at all.
	tooDeepEvent := l.MaxDepth > 0 && depth > l.MaxDepth && (p.Type == typeEvent || p.Type == typeBinaryEvent)
	if !tooDeepEvent && !json.Valid(p.Data) {
		return badPacket("payload is not one JSON value")
	}
	kind := firstByte(p.Data)
	switch p.Type {
	case typeConnect:
		if kind != '{' {
			return badPacket("CONNECT payload must be an object")
		}
	case typeDisconnect:
		return badPacket("DISCONNECT has no payload")
	case typeConnectError:
		return badPacket("CONNECT_ERROR comes from servers only")
	case typeAck, typeBinaryAck:
		if kind != '[' {
			return badPacket("ack payload must be an array")
		}
	case typeEvent, typeBinaryEvent:
		name, ok := eventName(p.Data)
		if !ok {
			return badPacket("event payload must be an array starting with the name")
		}
		if reservedEvents[name] {
			return badPacket("%q is a reserved event name", name)
		}
		p.Event = name
		switch {
		case l.MaxEventName > 0 && len(name) > l.MaxEventName:
			p.Refused, p.RefusedLabel = fmt.Sprintf("event name longer than %d bytes", l.MaxEventName), "event_name_too_long"
		case l.MaxDepth > 0 && depth > l.MaxDepth:
			p.Refused, p.RefusedLabel = fmt.Sprintf("payload nested deeper than %d levels", l.MaxDepth), "too_deep"
		}
		return nil
	}
	if l.MaxDepth > 0 && depth > l.MaxDepth {
		return ErrTooDeep
	}
	return nil
}

func firstByte(b []byte) byte {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\n', '\r':
		default:
			return c
		}
	}
	return 0
}

// jsonDepth is the deepest nesting of valid JSON b (a scalar is 0).
func jsonDepth(b []byte) int {
	depth, deepest, inString := 0, 0, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inString {
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '[', '{':
			depth++
			deepest = max(deepest, depth)
		case ']', '}':
			depth--
		}
	}
	return deepest
}

// eventName is the string that starts the valid JSON array b. A name
// without escapes (all of them, in practice) is read straight from the
// bytes; one with escapes or invalid UTF-8 (which encoding/json replaces)
// is decoded by encoding/json.
func eventName(b []byte) (string, bool) {
	i := 0
	skip := func() {
		for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
			i++
		}
	}
	skip()
	if i >= len(b) || b[i] != '[' {
		return "", false
	}
	i++
	skip()
	if i >= len(b) || b[i] != '"' {
		return "", false
	}
	start := i
	for i++; i < len(b); i++ {
		switch c := b[i]; {
		case c == '\\' || c >= utf8.RuneSelf && !utf8.Valid(b[start+1:]):
			var name string
			if err := json.NewDecoder(bytes.NewReader(b[start:])).Decode(&name); err != nil {
				return "", false
			}
			return name, true
		case c == '"':
			return string(b[start+1 : i]), true
		}
	}
	return "", false
}
