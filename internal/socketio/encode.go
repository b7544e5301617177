package socketio

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// placeholder is how a binary argument appears in a packet's JSON, its
// bytes following as attachment num.
type placeholder struct {
	Placeholder bool `json:"_placeholder"`
	Num         int  `json:"num"`
}

// appendHeader appends a packet's header: type, attachment count for binary
// types, the namespace unless "/", the ack id if any.
func appendHeader(dst []byte, typ int, attachments int, nsp string, id int64) []byte {
	dst = append(dst, byte('0'+typ))
	if typ == typeBinaryEvent || typ == typeBinaryAck {
		dst = strconv.AppendInt(dst, int64(attachments), 10)
		dst = append(dst, '-')
	}
	if nsp != "/" && nsp != "" {
		dst = append(dst, nsp...)
		dst = append(dst, ',')
	}
	if id >= 0 {
		dst = strconv.AppendInt(dst, id, 10)
	}
	return dst
}

// Encoded is a packet ready for the engine: its text and the attachments
// that follow it (binary packets only).
type Encoded struct {
	Text        []byte
	Attachments [][]byte
}

// encodeEvent encodes an event (or, with ack true, an ack's arguments) for
// namespace nsp. []byte arguments, at any depth of []any and map[string]any,
// become attachments; everything else is JSON.
func encodeEvent(nsp string, id int64, event string, args []any, ack bool) (Encoded, error) {
	if ack {
		if args == nil {
			args = []any{} // an ack without arguments is [], not null
		}
		return encodeData(nsp, id, args, true)
	}
	items := make([]any, 0, len(args)+1)
	items = append(items, event)
	return encodeData(nsp, id, append(items, args...), false)
}

// EncodeEvent encodes an event packet from its data array (the name first,
// then the arguments), as it travels between nodes.
func EncodeEvent(nsp string, data []any) (Encoded, error) { return encodeData(nsp, noID, data, false) }

// encodeData encodes an event's or ack's data array.
func encodeData(nsp string, id int64, items []any, ack bool) (Encoded, error) {
	var attachments [][]byte
	payload := any(items)
	if HasBinary(items) {
		payload = deconstruct(items, &attachments)
	}
	body, err := json.Marshal(payload)
	if err != nil {
		if !ack && len(items) > 0 {
			return Encoded{}, fmt.Errorf("socket.io: encoding %v: %w", items[0], err)
		}
		return Encoded{}, fmt.Errorf("socket.io: encoding an ack: %w", err)
	}
	typ := typeEvent
	switch {
	case ack && attachments != nil:
		typ = typeBinaryAck
	case ack:
		typ = typeAck
	case attachments != nil:
		typ = typeBinaryEvent
	}
	text := appendHeader(make([]byte, 0, 16+len(nsp)+len(body)), typ, len(attachments), nsp, id)
	return Encoded{Text: append(text, body...), Attachments: attachments}, nil
}

// encodeConnect is the CONNECT answer with the socket's id (and pid, the
// recovery's private id, when recovery is on).
func encodeConnect(nsp, sid, pid string) []byte {
	body, _ := json.Marshal(struct {
		SID string `json:"sid"`
		PID string `json:"pid,omitempty"`
	}{sid, pid})
	return append(appendHeader(nil, typeConnect, 0, nsp, noID), body...)
}

// encodeConnectError is a refused CONNECT: {"message", "data"?}.
func encodeConnectError(nsp, message string, data any) []byte {
	body, err := json.Marshal(struct {
		Message string `json:"message"`
		Data    any    `json:"data,omitempty"`
	}{message, data})
	if err != nil {
		body, _ = json.Marshal(struct {
			Message string `json:"message"`
		}{message})
	}
	return append(appendHeader(nil, typeConnectError, 0, nsp, noID), body...)
}

// encodeDisconnect is the server's DISCONNECT for nsp.
func encodeDisconnect(nsp string) []byte { return appendHeader(nil, typeDisconnect, 0, nsp, noID) }

// HasBinary reports whether v holds []byte at any depth of []any and
// map[string]any (what becomes attachments, or msgpack binary between nodes).
func HasBinary(v any) bool {
	switch v := v.(type) {
	case []byte:
		return true
	case []any:
		for _, e := range v {
			if HasBinary(e) {
				return true
			}
		}
	case map[string]any:
		for _, e := range v {
			if HasBinary(e) {
				return true
			}
		}
	}
	return false
}

// deconstruct replaces []byte values with placeholders, collecting them.
func deconstruct(v any, out *[][]byte) any {
	switch v := v.(type) {
	case []byte:
		*out = append(*out, v)
		return placeholder{true, len(*out) - 1}
	case []any:
		c := make([]any, len(v))
		for i, e := range v {
			c[i] = deconstruct(e, out)
		}
		return c
	case map[string]any:
		c := make(map[string]any, len(v))
		for k, e := range v {
			c[k] = deconstruct(e, out)
		}
		return c
	}
	return v
}

// Args decodes an event's arguments (without its name) or an ack's, with
// binary placeholders replaced by their attachments ([]byte). Numbers are
// float64, objects map[string]any, as encoding/json decodes them.
func (p *Packet) Args() ([]any, error) {
	if p.args != nil {
		return p.args, nil // a binary packet's, decoded when it completed
	}
	var items []any
	if err := json.Unmarshal(p.Data, &items); err != nil {
		return nil, fmt.Errorf("socket.io: arguments: %w", err)
	}
	if p.Type == typeEvent || p.Type == typeBinaryEvent {
		items = items[1:]
	}
	if p.Type != typeBinaryEvent && p.Type != typeBinaryAck {
		return items, nil
	}
	for i, e := range items {
		r, err := reconstruct(e, p.Attachments)
		if err != nil {
			return nil, err
		}
		items[i] = r
	}
	p.args = items
	return items, nil
}

// RawArgs are an event's arguments as JSON, each as received: the fast path
// for handlers that decode into their own types. ok is false for binary
// packets (their placeholders need Args).
func (p *Packet) RawArgs() (args []json.RawMessage, ok bool, err error) {
	if p.Type == typeBinaryEvent || p.Type == typeBinaryAck {
		return nil, false, nil
	}
	if err := json.Unmarshal(p.Data, &args); err != nil {
		return nil, true, fmt.Errorf("socket.io: arguments: %w", err)
	}
	if p.Type == typeEvent {
		args = args[1:]
	}
	return args, true, nil
}

func reconstruct(v any, attachments [][]byte) (any, error) {
	switch v := v.(type) {
	case []any:
		for i, e := range v {
			r, err := reconstruct(e, attachments)
			if err != nil {
				return nil, err
			}
			v[i] = r
		}
	case map[string]any:
		// As the reference decoder reads them: {"_placeholder": true, "num":
		// a non-negative integer}; anything else is a plain object.
		n, isNum := v["num"].(float64)
		if ph, _ := v["_placeholder"].(bool); ph && isNum && n >= 0 && n == float64(int64(n)) {
			if n >= float64(len(attachments)) {
				return nil, badPacket("placeholder %v without its attachment", n)
			}
			return attachments[int(n)], nil
		}
		for k, e := range v {
			r, err := reconstruct(e, attachments)
			if err != nil {
				return nil, err
			}
			v[k] = r
		}
	}
	return v, nil
}
