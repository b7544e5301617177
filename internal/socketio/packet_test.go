package socketio

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

var testLimits = Limits{MaxDepth: 8, MaxEventName: 16, MaxAttachments: 3, MaxAttachmentBytes: 64}

func TestDecodeText(t *testing.T) {
	cases := []struct {
		in      string
		typ     int
		nsp     string
		id      int64
		data    string
		event   string
		refused string
	}{
		{in: `0`, typ: 0, nsp: "/", id: noID},
		{in: `0{"token":"t"}`, typ: 0, nsp: "/", id: noID, data: `{"token":"t"}`},
		{in: `0/chat,`, typ: 0, nsp: "/chat", id: noID},
		{in: `0/chat`, typ: 0, nsp: "/chat", id: noID},
		{in: `1/chat,`, typ: 1, nsp: "/chat", id: noID},
		{in: `2["hi",1,{"a":[2]}]`, typ: 2, nsp: "/", id: noID, data: `["hi",1,{"a":[2]}]`, event: "hi"},
		{in: `2/chat,12["m"]`, typ: 2, nsp: "/chat", id: 12, data: `["m"]`, event: "m"},
		{in: `31[]`, typ: 3, nsp: "/", id: 1, data: `[]`},
		{in: `2["` + strings.Repeat("e", 17) + `"]`, typ: 2, nsp: "/", id: noID, data: `["` + strings.Repeat("e", 17) + `"]`, event: strings.Repeat("e", 17), refused: "event name longer than 16 bytes"},
		{in: `2["e",[[[[[[[[1]]]]]]]]]`, typ: 2, nsp: "/", id: noID, data: `["e",[[[[[[[[1]]]]]]]]]`, event: "e", refused: "payload nested deeper than 8 levels"},
	}
	for _, tc := range cases {
		p, err := NewDecoder(testLimits).Text([]byte(tc.in))
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if p.Type != tc.typ || p.Namespace != tc.nsp || p.ID != tc.id || string(p.Data) != tc.data || p.Event != tc.event || p.Refused != tc.refused {
			t.Errorf("%s: got %+v", tc.in, p)
		}
	}
	for _, bad := range []string{``, `9`, `2`, `2[]`, `2[1]`, `2["connect"]`, `2["e"]garbage`, `1{"a":1}`, `0[]`, `4{"message":"x"}`,
		`3[` + strings.Repeat("[", 9) + strings.Repeat("]", 9) + `]`, `5-["e"]`, `5x-["e"]`, `54-["e"]`, `2/` + strings.Repeat("n", 600) + `,["e"]`,
		`2` + strings.Repeat("1", 20) + `["e"]`} {
		if p, err := NewDecoder(testLimits).Text([]byte(bad)); err == nil {
			t.Errorf("%q decoded as %+v, want an error", bad, p)
		}
	}
}

func TestBinaryRoundTrip(t *testing.T) {
	enc, err := encodeEvent("/chat", 7, "file", []any{"name", []byte{1, 2}, map[string]any{"b": []byte{3}}}, false)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(enc.Text), `52-/chat,7["file","name",{"_placeholder":true,"num":0},{"b":{"_placeholder":true,"num":1}}]`) {
		t.Fatalf("text %s", enc.Text)
	}
	d := NewDecoder(testLimits)
	if p, err := d.Text(enc.Text); p != nil || err != nil {
		t.Fatalf("before the attachments: %v %v", p, err)
	}
	if _, err := d.Binary(enc.Attachments[0]); err != nil {
		t.Fatal(err)
	}
	p, err := d.Binary(enc.Attachments[1])
	if err != nil || p == nil {
		t.Fatalf("after the attachments: %v %v", p, err)
	}
	args, err := p.Args()
	if err != nil {
		t.Fatal(err)
	}
	want := []any{"name", []byte{1, 2}, map[string]any{"b": []byte{3}}}
	if !reflect.DeepEqual(args, want) {
		t.Errorf("args %#v", args)
	}
	// Binary without a packet, text while waiting, too many bytes.
	if _, err := NewDecoder(testLimits).Binary([]byte{1}); !errors.Is(err, ErrUnexpectedBinary) {
		t.Errorf("orphan binary: %v", err)
	}
	d = NewDecoder(testLimits)
	_, _ = d.Text([]byte(`51-["e",{"_placeholder":true,"num":0}]`))
	if _, err := d.Text([]byte(`2["e"]`)); !errors.Is(err, ErrUnexpectedText) {
		t.Errorf("text while waiting: %v", err)
	}
	d = NewDecoder(testLimits)
	_, _ = d.Text([]byte(`51-["e",{"_placeholder":true,"num":0}]`))
	if _, err := d.Binary(make([]byte, 65)); !errors.Is(err, ErrAttachmentsTooLarge) {
		t.Errorf("65 bytes: %v", err)
	}
}

func TestEncode(t *testing.T) {
	enc, _ := encodeEvent("/", noID, "m", []any{"x", 1}, false)
	if string(enc.Text) != `2["m","x",1]` || enc.Attachments != nil {
		t.Errorf("event: %s", enc.Text)
	}
	enc, _ = encodeEvent("/a", 3, "", []any{map[string]any{"ok": true}}, true)
	if string(enc.Text) != `3/a,3[{"ok":true}]` {
		t.Errorf("ack: %s", enc.Text)
	}
	if got := string(encodeConnect("/a", "S", "")); got != `0/a,{"sid":"S"}` {
		t.Errorf("connect: %s", got)
	}
	if got := string(encodeConnectError("/", "nope", map[string]any{"code": 1})); got != `4{"message":"nope","data":{"code":1}}` {
		t.Errorf("connect error: %s", got)
	}
	if got := string(encodeConnectError("/", "nope", nil)); got != `4{"message":"nope"}` {
		t.Errorf("connect error without data: %s", got)
	}
}

// FuzzDecoder: the library's decoder (github.com/zishang520/socket.io
// parsers/socket) is the oracle. Frames are split at 0x1e; one starting with
// 0x00 is binary. Whatever this decoder accepts, the library decodes the
// same way (type, namespace, id, attachments, payload); this decoder may
// refuse more (its limits, trailing bytes after the JSON, numeric event
// names), never less of what the library refuses.
func FuzzDecoder(f *testing.F) {
	for _, s := range []string{
		`0`, `0{"token":"abc"}`, `0/chat,`, `0/chat,{"name":"ann"}`, `1`, `1/chat,`,
		`2["chat","hello"]`, `20["echo",1,"two",{"three":[3]},null,true]`,
		`2/chat,12["message",{"room":"lobby","text":"hi"}]`, `3/chat,7[{"ok":true}]`, `31[]`,
		"51-[\"e\",{\"_placeholder\":true,\"num\":0}]\x1e\x00\x01\x02\x03",
		"52-/chat,9[\"e\",{\"_placeholder\":true,\"num\":1},{\"_placeholder\":true,\"num\":0}]\x1e\x00a\x1e\x00b",
		"61-5[{\"_placeholder\":true,\"num\":0}]\x1e\x00z",
		`2["e",[[[[[[[[[[1]]]]]]]]]]]`, `2["` + strings.Repeat("e", 40) + `"]`, `2[1]`, `2[{"a":1}]`,
		`51000-["e"]`, `5-1["e"]`, `54-["e"]`, "\x00orphan", `2["e"]garbage`, `2["e\"]`, `9`, ``, "2[\"e\",\"\xff\"]",
		`2 ["e"]`, `2/chat["e"]`, `0/chat,5{"a":1}`, `2["disconnect"]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, input []byte) {
		ours := NewDecoder(testLimits)
		ref := parser.NewDecoder()
		defer ref.Destroy()
		var want []*parser.Packet
		_ = ref.On("decoded", func(a ...any) { want = append(want, a[0].(*parser.Packet)) })
		for _, fr := range bytes.Split(input, []byte{0x1e}) {
			nWant := len(want)
			var got *Packet
			var err error
			bin, isBinary := bytes.CutPrefix(fr, []byte{0})
			if isBinary {
				got, err = ours.Binary(bytes.Clone(bin))
			} else {
				got, err = ours.Text(bytes.Clone(fr))
			}
			var refErr error
			if isBinary {
				refErr = ref.Add(types.NewBytesBuffer(bytes.Clone(bin)))
			} else {
				refErr = ref.Add(types.NewStringBuffer(bytes.Clone(fr)))
			}
			if err != nil {
				return // refused here: the connection ends; nothing more to compare
			}
			if refErr != nil {
				if got != nil && got.Refused != "" || ours.pending != nil && ours.pending.Refused != "" {
					return // refused here with an error ack, where the library ends the connection
				}
				t.Fatalf("frame %q: accepted here, the library says %v", fr, refErr)
			}
			if got == nil {
				continue // waiting for attachments (the library may be too)
			}
			if len(want) != nWant+1 {
				t.Fatalf("frame %q: decoded here as %+v, the library emitted %d packets", fr, got, len(want)-nWant)
			}
			compare(t, got, want[nWant])
			if (got.Type == typeBinaryEvent || got.Type == typeBinaryAck) && got.want == 0 {
				// The library's defect: after a binary packet with no
				// attachments it keeps waiting for them and refuses
				// every later text packet. Nothing more to compare.
				return
			}
		}
	})
}

func compare(t *testing.T, got *Packet, ref *parser.Packet) {
	t.Helper()
	if int(ref.Type) != got.Type || ref.Nsp != got.Namespace {
		t.Fatalf("header: got %d %q, library %d %q", got.Type, got.Namespace, ref.Type, ref.Nsp)
	}
	refID := int64(noID)
	if ref.Id != nil {
		refID = int64(*ref.Id)
	}
	if refID != got.ID {
		t.Fatalf("id: got %d, library %d", got.ID, refID)
	}
	if got.Data == nil {
		if ref.Data != nil {
			t.Fatalf("payload: none here, library %v", ref.Data)
		}
		return
	}
	if got.Type == typeBinaryEvent || got.Type == typeBinaryAck {
		return // the library reconstructs into its own buffer types
	}
	if got.Refused != "" {
		return // refused with an error ack: its payload is never parsed (past the depth limit it may not even be valid)
	}
	var mine any
	if err := json.Unmarshal(got.Data, &mine); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(mine, ref.Data) {
		t.Fatalf("payload: got %v, library %v", mine, ref.Data)
	}
}

func TestEventNameEscapes(t *testing.T) {
	for in, want := range map[string]string{
		`["plain",1]`: "plain", ` [ "sp" ]`: "sp", `["a\"b"]`: `a"b`, `["\u00e9t\u00e9"]`: "été", "[\"\xff\"]": "\ufffd",
	} {
		if got, ok := eventName([]byte(in)); !ok || got != want {
			t.Errorf("%s: %q %v, want %q", in, got, ok, want)
		}
	}
}
