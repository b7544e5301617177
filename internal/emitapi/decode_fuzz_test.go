package emitapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzDecode feeds arbitrary bodies to Decode: it must never panic, must
// refuse with 400 and a reason, or accept a request that satisfies every
// rule the handler and the Socket.IO side rely on.
func FuzzDecode(f *testing.F) {
	seeds := []string{
		// accepted
		`{"namespace":"/","event":"e"}`,
		`{"namespace":"/chat","room":"lobby","event":"message","data":{"text":"hi"}}`,
		`{"namespace":"/feed","event":"order","data":[1,2.5,"x",null,true,{"a":[]}]}`,
		`{"namespace":"/","event":"e","data":"[{\"}]"}`,
		`{"namespace":"/","event":"e","data":null}`,
		` {"event":"e","namespace":"/"} ` + "\n",
		`{"namespace":"/","event":"e","data":` + nested(MaxDepth-1) + `}`,
		// refused
		``,
		`null`,
		`[]`,
		`{`,
		`{"namespace":"/","event":"e"} {}`,
		`{"namespace":"/","event":"e","x":1}`,
		`{"namespace":"chat","event":"e"}`,
		`{"namespace":"/","event":"connect"}`,
		`{"namespace":"/","event":""}`,
		`{"namespace":"/","event":"` + strings.Repeat("e", MaxEventName+1) + `"}`,
		`{"namespace":"/","room":"` + strings.Repeat("r", MaxRoomName+1) + `","event":"e"}`,
		`{"namespace":"/","event":"e","data":` + nested(MaxDepth) + `}`,
		"{\"namespace\":\"/\",\"event\":\"\xff\xfe\"}",
		`]]]]{"namespace":"/","event":"e"}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, status, err := Decode(bytes.NewReader(body))
		if err != nil {
			// Without a MaxBytesReader there is nothing to be too large.
			if status != http.StatusBadRequest {
				t.Fatalf("refused with status %d, want 400: %v", status, err)
			}
			if err.Error() == "" {
				t.Fatal("refused without a reason")
			}
			return
		}
		if status != 0 {
			t.Fatalf("accepted with status %d, want 0", status)
		}
		checkAccepted(t, body, req)

		// What Decode accepted, re-encoded, is accepted again unchanged: the
		// rules are about the request, not about how its JSON was spelled.
		again, err := json.Marshal(req)
		if err != nil {
			t.Fatalf("accepted request does not re-encode: %v", err)
		}
		req2, _, err := Decode(bytes.NewReader(again))
		if err != nil {
			t.Fatalf("re-encoded request %s refused: %v", again, err)
		}
		if req2.Namespace != req.Namespace || req2.Room != req.Room || req2.Event != req.Event || !sameJSON(req2.Data, req.Data) {
			t.Fatalf("re-encoding changed the request: %+v -> %+v", req, req2)
		}
	})
}

// checkAccepted asserts the invariants of an accepted request.
func checkAccepted(t *testing.T, body []byte, req Request) {
	t.Helper()
	if !json.Valid(body) {
		t.Fatalf("accepted a body that is not exactly one JSON value: %q", body)
	}
	if err := checkDepth(body, MaxDepth); err != nil {
		t.Fatalf("accepted a body nested too deep: %v", err)
	}
	if !strings.HasPrefix(req.Namespace, "/") {
		t.Fatalf("accepted namespace %q", req.Namespace)
	}
	if req.Event == "" || len(req.Event) > MaxEventName || !utf8.ValidString(req.Event) {
		t.Fatalf("accepted event %q", req.Event)
	}
	if reservedEvents[req.Event] {
		t.Fatalf("accepted reserved event %q", req.Event)
	}
	if len(req.Room) > MaxRoomName || !utf8.ValidString(req.Room) {
		t.Fatalf("accepted room %q", req.Room)
	}
	if len(req.Data) > 0 {
		// The handler decodes Data and drops the error, trusting Decode.
		var v any
		if err := json.Unmarshal(req.Data, &v); err != nil {
			t.Fatalf("accepted data %q that does not decode: %v", req.Data, err)
		}
	}
}

// sameJSON reports whether a and b decode to the same value (or are both
// absent).
func sameJSON(a, b json.RawMessage) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	var va, vb any
	if json.Unmarshal(a, &va) != nil || json.Unmarshal(b, &vb) != nil {
		return false
	}
	return reflect.DeepEqual(va, vb)
}
