package plainws

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
)

// envelope bounds what a reply adds to the client's data:
// {"type":"broadcast","data":...,"ts":<13 digits>} or an error message.
const envelope = 96

// FuzzHandle feeds arbitrary /ws messages to Handle. No panic; the reply is
// one valid JSON message of a known type, never larger than the client's
// data plus the envelope (no amplification of broadcasts); echo and
// broadcast carry the client's data unchanged (up to whitespace).
func FuzzHandle(f *testing.F) {
	for _, s := range []string{
		`{"type":"echo","data":"hi"}`, `{"type":"broadcast","data":{"n":1,"list":[1,2,3]}}`,
		`{"type":"echo"}`, `{"type":"echo","data":null}`, `{"type":"nope"}`, `{}`, `[]`, `null`, `"echo"`,
		`{"type":"echo","data":"<script>&amp;</script>\u2028"}`, `{"type":"echo","data":` + strings.Repeat("[", 200) + strings.Repeat("]", 200) + `}`,
		`{"type":"echo","data":` + strings.Repeat("[", 20000) + `}`, `{"type":"echo","data":1e999}`,
		`{"type":"echo","data":"\xff\xfe"}`, `{"type":"echo","type":"broadcast","data":1}`, `{"TYPE":"echo","data":2}`,
		`{"type":"echo","data": [ 1 , 2 ] }`, `{`, ``,
		// Regression: json.Marshal's HTML escaping made this echo 6x larger.
		`{"type":"broadcast","data":"` + strings.Repeat("<", 200) + `"}`,
	} {
		f.Add([]byte(s), false)
	}
	f.Add([]byte{0, 1, 2}, true)
	f.Fuzz(func(t *testing.T, data []byte, binary bool) {
		kind := websocket.TextMessage
		if binary {
			kind = websocket.BinaryMessage
		}
		out, toAll := Handle(kind, data, 1_700_000_000_000)
		if !json.Valid(out) {
			t.Fatalf("reply %q is not JSON", out)
		}
		if len(out) > len(data)+envelope {
			t.Fatalf("reply of %d bytes to %d bytes of input", len(out), len(data))
		}
		var m Message
		if err := json.Unmarshal(out, &m); err != nil {
			t.Fatalf("reply %q: %v", out, err)
		}
		switch m.Type {
		case "error":
			if m.Error == "" || toAll {
				t.Fatalf("error reply %q (to all: %v)", out, toAll)
			}
		case "echo", "broadcast":
			if toAll != (m.Type == "broadcast") || binary {
				t.Fatalf("%s reply %q to %q (to all: %v)", m.Type, out, data, toAll)
			}
			var in Message
			if err := json.Unmarshal(data, &in); err != nil {
				t.Fatalf("answered %q to invalid JSON %q", out, data)
			}
			var a, b bytes.Buffer
			_ = json.Compact(&a, in.Data)
			_ = json.Compact(&b, m.Data)
			if !bytes.Equal(a.Bytes(), b.Bytes()) {
				t.Fatalf("data changed: %q -> %q", in.Data, m.Data)
			}
		default:
			t.Fatalf("reply of type %q", m.Type)
		}
	})
}
