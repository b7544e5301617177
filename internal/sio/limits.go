package sio

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	engine "github.com/zishang520/socket.io/servers/engine/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"

	"github.com/sockside/sockside/internal/engineio"
)

// Limits bound what one Socket.IO packet from a client may carry, on top of
// what the library's decoder checks itself (v3.0.5: attachment count,
// namespace length 512, ack id length 20; JSON only up to encoding/json's
// own nesting limit of 10,000 and event names of any length).
type Limits struct {
	// MaxDepth is the deepest JSON nesting of a packet's payload; the
	// event's argument array is level 1. Deeper events are refused (see
	// Refused); deeper CONNECT or ack payloads are decode errors, which
	// close the connection.
	MaxDepth int
	// MaxEventName is the longest event name in bytes; longer events are
	// refused.
	MaxEventName int
	// MaxAttachments is the most binary attachments one packet may
	// announce; more is a decode error.
	MaxAttachments uint64
	// MaxAttachmentBytes bounds the sum of one packet's attachments (each
	// arrives as its own Engine.IO message, so the transport's message
	// limit alone would allow MaxAttachments times as much); more is a
	// decode error. 0: no bound.
	MaxAttachmentBytes int64
	// AttachmentTimeout is how long the attachments a packet announced may
	// take to arrive; then the connection is closed. 0: no timeout.
	AttachmentTimeout time.Duration
}

// limitsFrom is the decoder bounds the configuration asks for.
func limitsFrom(depth, eventName, attachments int, attachmentBytes int64, attachmentTimeout time.Duration) Limits {
	return Limits{
		MaxDepth:           depth,
		MaxEventName:       eventName,
		MaxAttachments:     uint64(max(attachments, 0)),
		MaxAttachmentBytes: attachmentBytes,
		AttachmentTimeout:  attachmentTimeout,
	}
}

// Decode errors of the limits; the library answers any decode error by
// closing the connection (the client's socket sees "error" first).
var (
	ErrTooDeep             = errors.New("payload nested too deep")
	ErrAttachmentsTooLarge = errors.New("binary attachments too large")
)

// Refused replaces the arguments of an event the decoder refused: it is the
// only argument the event's middleware sees (admit answers it with an error
// ack). It is a Go value, so no client can forge one through JSON.
type Refused struct {
	Reason string // client-facing, e.g. "payload nested deeper than 32 levels"
	Label  string // metrics label (sockside_dropped_total{reason})
}

// NewParser returns the Socket.IO parser with l applied to every decoder;
// encoding is the library's own.
func NewParser(l Limits) parser.Parser { return newParser(l, nil) }

// dispatchFunc takes a decoded packet that arrived on conn off the
// library's path; it reports whether it did.
type dispatchFunc func(conn engine.Socket, p *parser.Packet) bool

// newParser is NewParser whose decoders first offer each packet to
// dispatch, once they know their connection (engineio.Message).
func newParser(l Limits, dispatch dispatchFunc) *limitParser {
	return &limitParser{inner: parser.NewParser(), limits: l, dispatch: dispatch}
}

type limitParser struct {
	inner    parser.Parser
	limits   Limits
	dispatch dispatchFunc
}

func (p *limitParser) NewEncoder() parser.Encoder { return p.inner.NewEncoder() }

func (p *limitParser) NewDecoder() parser.Decoder {
	d := newLimitDecoder(p.limits)
	d.dispatch = p.dispatch
	return d
}

// limitDecoder wraps the library's decoder. Text packets are checked before
// the library decodes them; an event over a limit is handed to the library
// with a stub payload (header kept, so its ack id and binary attachments
// are handled as usual) and emitted with Refused as its only argument.
//
// Add is called from one goroutine at a time (the connection's reader);
// the attachment timer is the only other caller, hence mu.
type limitDecoder struct {
	types.EventEmitter

	inner    parser.Decoder
	limits   Limits
	dispatch dispatchFunc  // may take decoded packets before the library
	conn     engine.Socket // from the first engineio.Message; under mu

	mu             sync.Mutex
	refusal        *Refused    // for the packet the library emits next
	reconstructing bool        // a binary packet waits for attachments
	attachedBytes  int64       // of that packet so far
	timer          *time.Timer // reaps a packet whose attachments never come
	gen            uint64      // of the reconstruction the timer belongs to
	destroyed      bool
	out            []*parser.Packet // decoded by the library during add
}

func newLimitDecoder(l Limits) *limitDecoder {
	opts := parser.DefaultDecoderOptions()
	opts.SetMaxAttachments(l.MaxAttachments)
	d := &limitDecoder{EventEmitter: types.NewEventEmitter(), inner: parser.NewDecoder(opts), limits: l}
	_ = d.inner.On("decoded", d.decoded)
	return d
}

// reapNamespace is the namespace of the packet a timed-out reconstruction
// is replaced with. No socket can ever join it (namespaces from the wire
// start with "/"), so the library treats the packet as "invalid state" and
// closes the connection: the one thing a decoder can make it do.
const reapNamespace = "\x00attachments-timed-out"

func (d *limitDecoder) Add(data any) error {
	d.mu.Lock()
	if m, ok := data.(engineio.Message); ok {
		data = m.Data
		if d.conn == nil {
			d.conn = m.Conn
		}
	}
	conn := d.conn
	err := d.add(data)
	out := d.out
	d.out = nil
	d.mu.Unlock()
	// Without the lock: a listener may close the connection, which destroys
	// this decoder.
	for _, p := range out {
		if d.dispatch != nil && conn != nil && d.dispatch(conn, p) {
			continue
		}
		d.Emit("decoded", p)
	}
	return err
}

func (d *limitDecoder) add(data any) error {
	if d.destroyed {
		return errors.New("decoder destroyed")
	}
	var text []byte
	switch v := data.(type) {
	case string:
		text = []byte(v)
	case *types.StringBuffer:
		text = v.Bytes()
	case *strings.Reader:
		b, err := io.ReadAll(v)
		if err != nil {
			return err
		}
		text = b
	default:
		return d.addBinary(data)
	}
	if d.reconstructing {
		// The library refuses text while it waits for attachments.
		return d.inner.Add(string(text))
	}
	stub, refusal, err := checkPacket(text, d.limits)
	if err != nil {
		return err
	}
	if refusal != nil {
		d.refusal = refusal
		text = stub
	}
	d.reconstructing = true // until the library emits, see decoded
	d.attachedBytes = 0
	if err := d.inner.Add(string(text)); err != nil {
		d.reset()
		return err
	}
	if d.reconstructing && d.limits.AttachmentTimeout > 0 {
		d.gen++
		gen := d.gen
		d.timer = time.AfterFunc(d.limits.AttachmentTimeout, func() { d.expire(gen) })
	}
	return nil
}

func (d *limitDecoder) addBinary(data any) error {
	if d.reconstructing {
		d.attachedBytes += binaryLen(data)
		if d.limits.MaxAttachmentBytes > 0 && d.attachedBytes > d.limits.MaxAttachmentBytes {
			d.reset()
			return fmt.Errorf("%w (over %d bytes)", ErrAttachmentsTooLarge, d.limits.MaxAttachmentBytes)
		}
	}
	if err := d.inner.Add(data); err != nil {
		return err
	}
	return nil
}

// decoded runs (synchronously, under mu, from add) when the library has a
// complete packet; Add emits it.
func (d *limitDecoder) decoded(args ...any) {
	p, ok := args[0].(*parser.Packet)
	if !ok {
		return
	}
	if d.refusal != nil {
		p.Data = []any{*d.refusal}
	}
	d.reset()
	d.out = append(d.out, p)
}

// reset ends the current packet; callers hold mu.
func (d *limitDecoder) reset() {
	d.refusal = nil
	d.reconstructing = false
	d.attachedBytes = 0
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
}

// expire reaps the packet of reconstruction gen if it is still incomplete.
func (d *limitDecoder) expire(gen uint64) {
	d.mu.Lock()
	if d.destroyed || !d.reconstructing || d.gen != gen {
		d.mu.Unlock()
		return
	}
	d.reset()
	d.mu.Unlock()
	d.Emit("decoded", &parser.Packet{Type: parser.DISCONNECT, Nsp: reapNamespace})
}

func (d *limitDecoder) Destroy() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.destroyed = true
	d.reset()
	d.inner.Destroy()
}

func binaryLen(data any) int64 {
	switch v := data.(type) {
	case []byte:
		return int64(len(v))
	case interface{ Len() int }:
		return int64(v.Len())
	default:
		return 0 // the library refuses what it cannot read as binary
	}
}

// checkPacket judges one text packet: err for a packet the connection must
// not survive, or a refusal with the stub to decode in its place. The
// header is split the way the library's decoder splits it.
func checkPacket(text []byte, l Limits) (stub []byte, refusal *Refused, err error) {
	if len(text) == 0 {
		return nil, nil, nil // the library's error
	}
	typ := parser.PacketType(int(text[0]) - '0')
	i := 1
	if typ == parser.BINARY_EVENT || typ == parser.BINARY_ACK {
		dash := bytes.IndexByte(text[i:], '-')
		if dash < 0 {
			return nil, nil, nil // the library's error
		}
		if n, perr := strconv.ParseUint(string(text[i:i+dash]), 10, 64); perr == nil && n > l.MaxAttachments {
			return nil, nil, parser.ErrTooManyAttachments
		}
		i += dash + 1
	}
	if i < len(text) && text[i] == '/' {
		comma := bytes.IndexByte(text[i:], ',')
		if comma < 0 {
			return nil, nil, nil // namespace only, no payload
		}
		i += comma + 1
	}
	for i < len(text) && text[i] >= '0' && text[i] <= '9' {
		i++
	}
	header, payload := text[:i], text[i:]
	if len(payload) == 0 {
		return nil, nil, nil
	}
	isEvent := typ == parser.EVENT || typ == parser.BINARY_EVENT
	if depth := jsonDepth(payload, l.MaxDepth); depth > l.MaxDepth {
		if !isEvent {
			return nil, nil, fmt.Errorf("%w (over %d levels)", ErrTooDeep, l.MaxDepth)
		}
		return stubFor(header), &Refused{Reason: fmt.Sprintf("payload nested deeper than %d levels", l.MaxDepth), Label: "too_deep"}, nil
	}
	if isEvent {
		if name, ok := eventName(payload); ok && len(name) > l.MaxEventName {
			return stubFor(header), &Refused{Reason: fmt.Sprintf("event name longer than %d bytes", l.MaxEventName), Label: "event_name_too_long"}, nil
		}
	}
	return nil, nil, nil
}

// stubFor is a valid event packet with header's type, attachments,
// namespace and ack id.
func stubFor(header []byte) []byte {
	return append(append([]byte(nil), header...), `["refused"]`...)
}

// jsonDepth returns the nesting depth of the first JSON value in b, or
// limit+1 as soon as it exceeds limit. It only tracks brackets outside
// strings; whether b is valid JSON is the library decoder's business.
func jsonDepth(b []byte, limit int) int {
	depth, deepest := 0, 0
	inString, escaped := false, false
	for _, c := range b {
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '[', '{':
			depth++
			if depth > deepest {
				deepest = depth
				if deepest > limit {
					return deepest
				}
			}
		case ']', '}':
			depth--
			if depth <= 0 {
				return deepest // the end of the first value
			}
		}
	}
	return deepest
}

func skipJSONSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// eventName reads the first element of a JSON array when it is a string.
func eventName(payload []byte) (string, bool) {
	// The common case without a JSON decoder: ["name", in ASCII without
	// escapes. Anything else may decode to another length (an invalid
	// UTF-8 byte becomes the 3-byte U+FFFD), so encoding/json decides.
	i := skipJSONSpace(payload, 0)
	if i < len(payload) && payload[i] == '[' {
		i = skipJSONSpace(payload, i+1)
		if i < len(payload) && payload[i] == '"' {
			for j := i + 1; j < len(payload); j++ {
				if c := payload[j]; c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
					break
				}
				if payload[j] == '"' {
					return string(payload[i+1 : j]), true
				}
			}
		}
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		return "", false
	}
	tok, err := dec.Token()
	if err != nil {
		return "", false
	}
	name, ok := tok.(string)
	return name, ok
}
