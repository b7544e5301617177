package emitapi

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
)

const testSecret = "emit-secret-for-tests"

// emitCall is one recorded Target.Emit.
type emitCall struct {
	Namespace, Room, Event string
	Args                   []any
}

// fakeTarget records every Emit and serves only the namespaces it lists.
type fakeTarget struct {
	namespaces map[string]bool
	err        error // returned for served namespaces when set

	mu    sync.Mutex
	calls []emitCall
}

func newFakeTarget(namespaces ...string) *fakeTarget {
	f := &fakeTarget{namespaces: map[string]bool{}}
	for _, n := range namespaces {
		f.namespaces[n] = true
	}
	return f
}

func (f *fakeTarget) Emit(namespace, room, event string, args ...any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, emitCall{namespace, room, event, args})
	if !f.namespaces[namespace] {
		return ErrUnknownNamespace
	}
	return f.err
}

func (f *fakeTarget) recorded() []emitCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]emitCall(nil), f.calls...)
}

// post sends body to h with the given Authorization header ("" = none).
func post(h http.Handler, authorization, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "/api/emit", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if authorization != "" {
		r.Header.Set("Authorization", authorization)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// errorReason decodes the {ok:false, error} body of a refusal.
func errorReason(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	var body struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatalf("status %d body %q is not JSON: %v", w.Code, w.Body, err)
	}
	if body.OK || body.Error == "" {
		t.Errorf("refusal body %q, want ok:false and an error", w.Body)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	return body.Error
}

func newTestHandler(target Target) *Handler {
	return New(target, testSecret, 1<<16, slog.New(slog.DiscardHandler))
}

func TestDisabledIs404(t *testing.T) {
	target := newFakeTarget("/")
	h := New(target, "", 1<<16, slog.New(slog.DiscardHandler))
	for _, method := range []string{http.MethodPost, http.MethodGet} {
		r := httptest.NewRequest(method, "/api/emit", strings.NewReader(`{"namespace":"/","event":"e"}`))
		r.Header.Set("Authorization", "Bearer ") // the empty secret must not unlock it
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusNotFound {
			t.Errorf("%s with the API off: status %d, want 404", method, w.Code)
		}
	}
	if calls := target.recorded(); len(calls) != 0 {
		t.Errorf("disabled API emitted %v", calls)
	}
}

func TestMethodNotAllowed(t *testing.T) {
	for _, method := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
		r := httptest.NewRequest(method, "/api/emit", nil)
		r.Header.Set("Authorization", "Bearer "+testSecret)
		w := httptest.NewRecorder()
		newTestHandler(newFakeTarget("/")).ServeHTTP(w, r)
		if w.Code != http.StatusMethodNotAllowed {
			t.Errorf("%s: status %d, want 405", method, w.Code)
		}
		if allow := w.Header().Get("Allow"); allow != http.MethodPost {
			t.Errorf("%s: Allow %q, want POST", method, allow)
		}
		errorReason(t, w)
	}
}

func TestAuthorization(t *testing.T) {
	tests := []struct {
		name          string
		authorization string
		want          int
	}{
		{"missing", "", http.StatusUnauthorized},
		{"wrong secret", "Bearer not-the-secret", http.StatusUnauthorized},
		{"secret prefix only", "Bearer " + testSecret[:5], http.StatusUnauthorized},
		{"secret with extra suffix", "Bearer " + testSecret + "x", http.StatusUnauthorized},
		{"empty bearer", "Bearer ", http.StatusUnauthorized},
		{"no scheme", testSecret, http.StatusUnauthorized},
		{"Basic scheme", "Basic " + testSecret, http.StatusUnauthorized},
		// The scheme is matched exactly as "Bearer " (capital B, one space).
		{"lowercase bearer (the scheme is case-insensitive)", "bearer " + testSecret, http.StatusAccepted},
		{"tab after Bearer", "Bearer\t" + testSecret, http.StatusUnauthorized},
		{"correct", "Bearer " + testSecret, http.StatusAccepted},
		// The token is trimmed, so stray whitespace from a copied secret or a
		// templated header still matches.
		{"correct, extra spaces", "Bearer   " + testSecret + "  ", http.StatusAccepted},
		{"correct, trailing newline", "Bearer " + testSecret + "\n", http.StatusAccepted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := newFakeTarget("/")
			w := post(newTestHandler(target), tt.authorization, `{"namespace":"/","event":"e"}`)
			if w.Code != tt.want {
				t.Fatalf("status %d (%s), want %d", w.Code, w.Body, tt.want)
			}
			if tt.want == http.StatusUnauthorized {
				errorReason(t, w)
				if !strings.HasPrefix(w.Header().Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("WWW-Authenticate %q, want a Bearer challenge", w.Header().Get("WWW-Authenticate"))
				}
				if calls := target.recorded(); len(calls) != 0 {
					t.Errorf("unauthorized request emitted %v", calls)
				}
			}
		})
	}
}

func TestAccepted(t *testing.T) {
	tests := []struct {
		name string
		body string
		want emitCall
	}{
		{"namespace and event, no data", `{"namespace":"/","event":"ping"}`,
			emitCall{"/", "", "ping", nil}},
		{"room and object data", `{"namespace":"/chat","room":"lobby","event":"message","data":{"text":"hi","n":2}}`,
			emitCall{"/chat", "lobby", "message", []any{map[string]any{"text": "hi", "n": 2.0}}}},
		{"array data stays one argument", `{"namespace":"/feed","event":"order","data":[1,"two",null]}`,
			emitCall{"/feed", "", "order", []any{[]any{1.0, "two", nil}}}},
		{"string data", `{"namespace":"/","event":"e","data":"x"}`,
			emitCall{"/", "", "e", []any{"x"}}},
		{"explicit null data is one null argument", `{"namespace":"/","event":"e","data":null}`,
			emitCall{"/", "", "e", []any{nil}}},
		{"room at the limit", `{"namespace":"/","room":"` + strings.Repeat("r", MaxRoomName) + `","event":"e"}`,
			emitCall{"/", strings.Repeat("r", MaxRoomName), "e", nil}},
		{"nesting at the limit", `{"namespace":"/","event":"e","data":` + nested(MaxDepth-1) + `}`,
			emitCall{"/", "", "e", []any{nestedValue(MaxDepth - 1)}}},
		{"brackets inside strings do not count", `{"namespace":"/","event":"e","data":"` + strings.Repeat("[{", 100) + `\"]"}`,
			emitCall{"/", "", "e", []any{strings.Repeat("[{", 100) + `"]`}}},
		{"whitespace around the object", "\n  {\"namespace\":\"/\",\"event\":\"e\"}\r\n\t",
			emitCall{"/", "", "e", nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := newFakeTarget("/", "/chat", "/feed")
			w := post(newTestHandler(target), "Bearer "+testSecret, tt.body)
			if w.Code != http.StatusAccepted {
				t.Fatalf("status %d (%s), want 202", w.Code, w.Body)
			}
			if strings.TrimSpace(w.Body.String()) != `{"ok":true}` {
				t.Errorf("body %q, want {\"ok\":true}", w.Body)
			}
			calls := target.recorded()
			if len(calls) != 1 {
				t.Fatalf("Target got %d calls, want 1: %v", len(calls), calls)
			}
			if !reflect.DeepEqual(calls[0], tt.want) {
				t.Errorf("Target got\n%#v\nwant\n%#v", calls[0], tt.want)
			}
		})
	}
}

// nested returns depth arrays nested in each other: nested(2) = [[]].
func nested(depth int) string {
	return strings.Repeat("[", depth) + strings.Repeat("]", depth)
}

// nestedValue is nested(depth) decoded.
func nestedValue(depth int) any {
	v := []any{}
	for range depth - 1 {
		v = []any{v}
	}
	return v
}

func TestBadRequest(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		reason string // a substring the error must contain
	}{
		{"empty body", ``, "not a valid emit request"},
		{"invalid JSON", `{"namespace":`, "not a valid emit request"},
		{"not an object", `["/","e"]`, "not a valid emit request"},
		{"wrong field type", `{"namespace":"/","event":7}`, "not a valid emit request"},
		{"unknown field", `{"namespace":"/","event":"e","nsp":"/x"}`, "unknown field"},
		{"trailing object", `{"namespace":"/","event":"e"} {"namespace":"/","event":"f"}`, "trailing data"},
		{"trailing garbage", `{"namespace":"/","event":"e"}garbage`, "trailing data"},
		{"trailing close brace", `{"namespace":"/","event":"e"}}`, "trailing data"},
		{"trailing close bracket", `{"namespace":"/","event":"e"}]`, "trailing data"},
		{"missing namespace", `{"event":"e"}`, "namespace is required"},
		{"namespace without slash", `{"namespace":"chat","event":"e"}`, "namespace is required"},
		{"null body", `null`, "namespace is required"},
		{"missing event", `{"namespace":"/"}`, "event is required"},
		{"empty event", `{"namespace":"/","event":""}`, "event is required"},
		{"too long event", `{"namespace":"/","event":"` + strings.Repeat("e", MaxEventName+1) + `"}`, "event is required"},
		{"reserved connect", `{"namespace":"/","event":"connect"}`, "reserved"},
		{"reserved connect_error", `{"namespace":"/","event":"connect_error"}`, "reserved"},
		{"reserved disconnect", `{"namespace":"/","event":"disconnect"}`, "reserved"},
		{"reserved disconnecting", `{"namespace":"/","event":"disconnecting"}`, "reserved"},
		{"reserved newListener", `{"namespace":"/","event":"newListener"}`, "reserved"},
		{"reserved removeListener", `{"namespace":"/","event":"removeListener"}`, "reserved"},
		{"too long room", `{"namespace":"/","room":"` + strings.Repeat("r", MaxRoomName+1) + `","event":"e"}`, "room must be at most"},
		{"nesting over the limit", `{"namespace":"/","event":"e","data":` + nested(MaxDepth) + `}`, "nested deeper than"},
		{"deep nesting in an unknown field", `{"x":` + nested(10_000) + `}`, "nested deeper than"},
		// Valid JSON syntax, but no float64 holds it: the handler would
		// deliver null (or drop the key) instead of the caller's value.
		{"number out of range", `{"namespace":"/","event":"e","data":1e999}`, "data"},
		{"number out of range inside data", `{"namespace":"/","event":"e","data":{"a":1e999,"b":2}}`, "data"},
		{"unknown namespace", `{"namespace":"/nope","event":"e"}`, `unknown namespace "/nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := newFakeTarget("/")
			w := post(newTestHandler(target), "Bearer "+testSecret, tt.body)
			if w.Code != http.StatusBadRequest {
				t.Fatalf("status %d (%s), want 400", w.Code, w.Body)
			}
			if reason := errorReason(t, w); !strings.Contains(reason, tt.reason) {
				t.Errorf("reason %q, want it to contain %q", reason, tt.reason)
			}
			// Only a well-formed request reaches the Target (which then
			// refuses the unknown namespace).
			calls := target.recorded()
			if tt.name == "unknown namespace" {
				if len(calls) != 1 || calls[0].Namespace != "/nope" {
					t.Errorf("Target got %v, want one call for /nope", calls)
				}
			} else if len(calls) != 0 {
				t.Errorf("refused request reached the Target: %v", calls)
			}
		})
	}
}

func TestTooLarge(t *testing.T) {
	const limit = 1024
	target := newFakeTarget("/")
	h := New(target, testSecret, limit, slog.New(slog.DiscardHandler))
	prefix := `{"namespace":"/","event":"e","data":"`
	fits := prefix + strings.Repeat("x", limit-len(prefix)-2) + `"}`
	if len(fits) != limit {
		t.Fatalf("test body is %d bytes, want %d", len(fits), limit)
	}
	if w := post(h, "Bearer "+testSecret, fits); w.Code != http.StatusAccepted {
		t.Errorf("body of exactly %d bytes: status %d (%s), want 202", limit, w.Code, w.Body)
	}
	over := prefix + strings.Repeat("x", limit) + `"}`
	w := post(h, "Bearer "+testSecret, over)
	if w.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("body of %d bytes: status %d (%s), want 413", len(over), w.Code, w.Body)
	}
	if reason := errorReason(t, w); !strings.Contains(reason, "1024") {
		t.Errorf("reason %q, want it to state the limit", reason)
	}
	if calls := target.recorded(); len(calls) != 1 {
		t.Errorf("Target got %d calls, want only the one that fit", len(calls))
	}
}

func TestDeliveryFailureIs500(t *testing.T) {
	target := newFakeTarget("/")
	target.err = errors.New("adapter down")
	w := post(newTestHandler(target), "Bearer "+testSecret, `{"namespace":"/","event":"e"}`)
	if w.Code != http.StatusInternalServerError {
		t.Fatalf("status %d (%s), want 500", w.Code, w.Body)
	}
	// The internal error stays in the log, not in the answer.
	if reason := errorReason(t, w); strings.Contains(reason, "adapter down") {
		t.Errorf("reason %q leaks the internal error", reason)
	}
}

// errReader fails every read.
type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

func TestDecodeReadError(t *testing.T) {
	_, status, err := Decode(errReader{})
	if status != http.StatusBadRequest || err == nil || !strings.Contains(err.Error(), "reading body") {
		t.Errorf("Decode(failing reader) = %d, %v; want 400 and a reading-body error", status, err)
	}
}

func TestCheckDepth(t *testing.T) {
	tests := []struct {
		name  string
		json  string
		limit int
		ok    bool
	}{
		{"flat", `{"a":1}`, 1, true},
		{"at limit", `{"a":[{"b":[]}]}`, 4, true},
		{"over limit", `{"a":[{"b":[[]]}]}`, 4, false},
		{"siblings do not add up", `[[],[],[],[],[]]`, 2, true},
		{"brackets in strings ignored", `["[[[[[[", "{{{{"]`, 1, true},
		{"escaped quote keeps the string open", `["\"[[[[["]`, 1, true},
		{"escaped backslash closes the string", `["\\",[[]]]`, 2, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := checkDepth([]byte(tt.json), tt.limit); (err == nil) != tt.ok {
				t.Errorf("checkDepth(%s, %d) = %v, want ok=%v", tt.json, tt.limit, err, tt.ok)
			}
		})
	}
}
