package sio

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// fuzzLimits are small so the fuzzer reaches every limit quickly.
var fuzzLimits = limitsFrom(8, 16, 3, 64, time.Hour)

// FuzzSocketDecoder feeds a sequence of Engine.IO message payloads to the
// Socket.IO decoder the server uses (the library's, behind the limits).
// The input is split into frames at 0x1e; a frame starting with 0x00 is
// binary (an attachment), any other text. Properties:
//   - no panic, and Destroy stops everything;
//   - every packet emitted is within the limits: payload depth, event name
//     length, attachments;
//   - a packet the limits did not refuse is exactly what the bare library
//     decoder makes of the same frames (the wrapper only ever refuses).
func FuzzSocketDecoder(f *testing.F) {
	for _, s := range []string{
		// socket.io-client 4.8 shapes (the Engine.IO "4" prefix removed)
		`0`, `0{"token":"abc.def.ghi"}`, `0/chat,`, `0/chat,{"name":"ann"}`, `1`, `1/chat,`,
		`2["chat","hello"]`, `20["echo",1,"two",{"three":[3]},null,true]`,
		`2/chat,12["message",{"room":"lobby","text":"hi"}]`, `3/chat,7[{"ok":true}]`, `31[]`,
		"51-[\"e\",{\"_placeholder\":true,\"num\":0}]\x1e\x00\x01\x02\x03",
		"52-/chat,9[\"e\",{\"_placeholder\":true,\"num\":1},{\"_placeholder\":true,\"num\":0}]\x1e\x00a\x1e\x00b",
		"61-5[{\"_placeholder\":true,\"num\":0}]\x1e\x00z",
		// hostile
		`2["e",[[[[[[[[[[1]]]]]]]]]]]`, `2["` + strings.Repeat("e", 40) + `"]`, `2[1]`, `2[{"a":1}]`,
		`51000-["e"]`, `5-1["e"]`, `54-["e"]`, "51-[\"e\",{\"_placeholder\":true,\"num\":7}]\x1e\x00x",
		"51-[\"e\",{\"_placeholder\":true,\"num\":0}]\x1e2[\"e\"]", "\x00orphan", `2/` + strings.Repeat("n", 600) + `,["e"]`,
		`2123456789012345678901["e"]`, `2["connect"]`, `0{"a":` + nested(20) + `}`, `2["e"]garbage`, `2["e\"]`,
		`2["e","\"[[[[[[[[[["]`, `9`, ``, "2[\"e\",\"\xff\"]",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, input []byte) {
		frames := bytes.Split(input, []byte{0x1e})
		d := NewParser(fuzzLimits).NewDecoder()
		ref := parser.NewDecoder()
		defer d.Destroy()
		defer ref.Destroy()
		var got, want []*parser.Packet
		_ = d.On("decoded", func(a ...any) { got = append(got, a[0].(*parser.Packet)) })
		_ = ref.On("decoded", func(a ...any) { want = append(want, a[0].(*parser.Packet)) })
		for _, fr := range frames {
			nGot, nWant := len(got), len(want)
			var err, refErr error
			if b, ok := bytes.CutPrefix(fr, []byte{0}); ok {
				err = d.Add(types.NewBytesBuffer(bytes.Clone(b)))
				refErr = ref.Add(types.NewBytesBuffer(bytes.Clone(b)))
			} else {
				err = d.Add(types.NewStringBuffer(bytes.Clone(fr)))
				refErr = ref.Add(types.NewStringBuffer(bytes.Clone(fr)))
			}
			newGot, newWant := got[nGot:], want[nWant:]
			for _, p := range newGot {
				checkWithinLimits(t, p)
			}
			if holdsRefusal(d) || len(newGot) == 1 && isRefused(newGot[0]) {
				// A refusal stands in for whatever the library made of the
				// frame, an error included (it never parses what is too
				// deep); after an error their states differ.
				if refErr != nil {
					return
				}
				continue
			}
			if err != nil {
				return // the connection closes on any decode error
			}
			if refErr != nil {
				t.Fatalf("frame %q: library error %v, wrapper emitted %v", fr, refErr, newGot)
			}
			if !reflect.DeepEqual(newGot, newWant) {
				t.Fatalf("frame %q: wrapper %v, library %v", fr, newGot, newWant)
			}
		}
	})
}

// holdsRefusal reports whether d is collecting the attachments of a
// refused binary event.
func holdsRefusal(d parser.Decoder) bool {
	ld := d.(*limitDecoder)
	ld.mu.Lock()
	defer ld.mu.Unlock()
	return ld.refusal != nil
}

func isRefused(p *parser.Packet) bool {
	args, ok := p.Data.([]any)
	if !ok || len(args) != 1 {
		return false
	}
	_, ok = args[0].(Refused)
	return ok
}

// checkWithinLimits asserts what the wrapper guarantees about an emitted
// packet.
func checkWithinLimits(t *testing.T, p *parser.Packet) {
	t.Helper()
	if isRefused(p) {
		if p.Type != parser.EVENT && p.Type != parser.BINARY_EVENT {
			t.Fatalf("refused a %s packet; only events are refused", p.Type)
		}
		return
	}
	if d := valueDepth(p.Data); d > fuzzLimits.MaxDepth {
		t.Fatalf("emitted a payload %d deep: %+v", d, p)
	}
	if p.Type == parser.EVENT || p.Type == parser.BINARY_EVENT {
		args, _ := p.Data.([]any)
		if name, ok := args[0].(string); ok && len(name) > fuzzLimits.MaxEventName {
			t.Fatalf("emitted an event named %d bytes", len(name))
		}
	}
	if n := countBinary(p.Data); n > int(fuzzLimits.MaxAttachments) {
		t.Fatalf("emitted %d attachments", n)
	}
}

func valueDepth(v any) int {
	switch x := v.(type) {
	case []any:
		d := 0
		for _, e := range x {
			d = max(d, valueDepth(e))
		}
		return d + 1
	case map[string]any:
		d := 0
		for _, e := range x {
			d = max(d, valueDepth(e))
		}
		return d + 1
	default:
		return 0
	}
}

func countBinary(v any) int {
	switch x := v.(type) {
	case []any:
		n := 0
		for _, e := range x {
			n += countBinary(e)
		}
		return n
	case map[string]any:
		n := 0
		for _, e := range x {
			n += countBinary(e)
		}
		return n
	case types.BufferInterface:
		return 1
	default:
		return 0
	}
}
