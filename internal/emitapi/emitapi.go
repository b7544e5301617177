// Package emitapi is the server-side emit endpoint (POST /api/emit): how a
// Next.js route handler or server action pushes an event to clients.
package emitapi

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"unicode/utf8"
)

// Limits on a request.
const (
	// MaxDepth bounds JSON nesting, so a hostile body cannot exhaust the
	// decoder's stack or the encoders downstream.
	MaxDepth     = 32
	MaxEventName = 128
	MaxRoomName  = 256
)

// reservedEvents cannot be emitted: socket.io-client treats them specially.
var reservedEvents = map[string]bool{
	"connect": true, "connect_error": true, "disconnect": true, "disconnecting": true,
	"newListener": true, "removeListener": true,
}

// Request is the JSON body.
type Request struct {
	Namespace string          `json:"namespace"`
	Room      string          `json:"room,omitempty"`
	Event     string          `json:"event"`
	Data      json.RawMessage `json:"data,omitempty"`
}

// Target is where an accepted request goes: a namespace lookup and an emit.
// sio.Server satisfies it through an adapter in internal/app.
type Target interface {
	// Emit sends event with args to namespace (and room, if set). It
	// returns ErrUnknownNamespace for namespaces the server does not serve.
	Emit(namespace, room, event string, args ...any) error
}

// ErrUnknownNamespace is returned by Target.Emit for unserved namespaces.
var ErrUnknownNamespace = errors.New("unknown namespace")

// Handler serves POST /api/emit.
type Handler struct {
	target  Target
	secret  [32]byte
	enabled bool
	maxBody int64
	log     *slog.Logger
}

// New returns the handler; an empty secret disables the API (404).
func New(target Target, secret string, maxBody int64, log *slog.Logger) *Handler {
	return &Handler{target: target, secret: sha256.Sum256([]byte(secret)), enabled: secret != "", maxBody: maxBody, log: log}
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !h.enabled {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		reply(w, http.StatusMethodNotAllowed, "use POST")
		return
	}
	if !h.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="sockside emit"`)
		reply(w, http.StatusUnauthorized, "bad or missing bearer secret")
		return
	}
	req, status, err := Decode(http.MaxBytesReader(w, r.Body, h.maxBody))
	if err != nil {
		reply(w, status, err.Error())
		return
	}
	var args []any
	if len(req.Data) > 0 {
		var data any
		_ = json.Unmarshal(req.Data, &data) // validated by Decode
		args = []any{data}
	}
	if err := h.target.Emit(req.Namespace, req.Room, req.Event, args...); err != nil {
		if errors.Is(err, ErrUnknownNamespace) {
			reply(w, http.StatusBadRequest, fmt.Sprintf("unknown namespace %q", req.Namespace))
			return
		}
		h.log.Error("emit API delivery failed", "namespace", req.Namespace, "event", req.Event, "err", err)
		reply(w, http.StatusInternalServerError, "delivery failed")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_, _ = w.Write([]byte(`{"ok":true}` + "\n"))
}

// authorized compares hashes so the comparison takes the same time whatever
// the length or content of the presented secret.
func (h *Handler) authorized(r *http.Request) bool {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	presented := sha256.Sum256([]byte(strings.TrimSpace(token)))
	// The scheme is case-insensitive (RFC 9110 section 11.1).
	return subtle.ConstantTimeCompare(presented[:], h.secret[:]) == 1 && ok && strings.EqualFold(scheme, "Bearer")
}

// Decode reads and validates a request body, returning the HTTP status to
// answer with when it is refused.
func Decode(body io.Reader) (Request, int, error) {
	raw, err := io.ReadAll(body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return Request{}, http.StatusRequestEntityTooLarge, fmt.Errorf("body larger than %d bytes", tooBig.Limit)
		}
		return Request{}, http.StatusBadRequest, fmt.Errorf("reading body: %w", err)
	}
	if err := checkDepth(raw, MaxDepth); err != nil {
		return Request{}, http.StatusBadRequest, err
	}
	var req Request
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return Request{}, http.StatusBadRequest, fmt.Errorf("body is not a valid emit request: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Request{}, http.StatusBadRequest, errors.New("body has trailing data after the JSON object")
	}
	switch {
	case !strings.HasPrefix(req.Namespace, "/"):
		return req, http.StatusBadRequest, errors.New(`namespace is required and starts with "/"`)
	case req.Event == "" || len(req.Event) > MaxEventName || !utf8.ValidString(req.Event):
		return req, http.StatusBadRequest, fmt.Errorf("event is required (1-%d bytes)", MaxEventName)
	case reservedEvents[req.Event]:
		return req, http.StatusBadRequest, fmt.Errorf("event %q is reserved", req.Event)
	case len(req.Room) > MaxRoomName || !utf8.ValidString(req.Room):
		return req, http.StatusBadRequest, fmt.Errorf("room must be at most %d bytes", MaxRoomName)
	}
	if len(req.Data) > 0 {
		// Syntax alone is not enough: a number beyond float64 would be
		// delivered as null.
		var v any
		if err := json.Unmarshal(req.Data, &v); err != nil {
			return req, http.StatusBadRequest, fmt.Errorf("data cannot be delivered: %v", err)
		}
	}
	return req, 0, nil
}

// checkDepth refuses JSON nested deeper than limit before it is decoded.
func checkDepth(raw []byte, limit int) error {
	depth := 0
	inString, escaped := false, false
	for _, b := range raw {
		switch {
		case escaped:
			escaped = false
		case inString && b == '\\':
			escaped = true
		case b == '"':
			inString = !inString
		case inString:
		case b == '{' || b == '[':
			if depth++; depth > limit {
				return fmt.Errorf("JSON nested deeper than %d levels", limit)
			}
		case b == '}' || b == ']':
			depth--
		}
	}
	return nil
}

func reply(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"ok": false, "error": msg})
}
