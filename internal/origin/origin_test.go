package origin

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// request builds a request to the backend at host with the given Origin and
// X-Forwarded-Host ("" leaves a header out).
func request(method, host, origin, forwardedHost string) *http.Request {
	r := httptest.NewRequest(method, "http://"+host+"/socket.io/?EIO=4&transport=polling", nil)
	r.Host = host
	if origin != "" {
		r.Header.Set("Origin", origin)
	}
	if forwardedHost != "" {
		r.Header.Set("X-Forwarded-Host", forwardedHost)
	}
	return r
}

func TestAllows(t *testing.T) {
	listed := []string{"https://App.Example.com", "http://localhost:3000/", "http://[::1]:8080"}
	tests := []struct {
		name          string
		origins       []string
		host          string
		origin        string
		forwardedHost string
		want          bool
	}{
		{"no Origin (non-browser client)", nil, "127.0.0.1:3001", "", "", true},
		{"no Origin with a list", listed, "127.0.0.1:3001", "", "", true},

		{"listed", listed, "127.0.0.1:3001", "https://app.example.com", "", true},
		{"listed, case differs", listed, "127.0.0.1:3001", "HTTPS://APP.EXAMPLE.COM", "", true},
		{"listed, explicit default port", listed, "127.0.0.1:3001", "https://app.example.com:443", "", true},
		{"listed with trailing slash", listed, "127.0.0.1:3001", "http://localhost:3000", "", true},
		{"listed IPv6", listed, "127.0.0.1:3001", "http://[::1]:8080", "", true},
		{"listed host, other scheme", listed, "127.0.0.1:3001", "http://app.example.com", "", false},
		{"listed host, other port", listed, "127.0.0.1:3001", "https://app.example.com:8443", "", false},
		{"listed host, other port (localhost)", listed, "127.0.0.1:3001", "http://localhost:3002", "", false},
		{"unlisted", listed, "127.0.0.1:3001", "https://evil.example", "", false},
		{"unlisted suffix trick", listed, "127.0.0.1:3001", "https://app.example.com.evil.example", "", false},
		{"null origin", listed, "127.0.0.1:3001", "null", "", false},
		{"empty list refuses cross-origin", nil, "127.0.0.1:3001", "http://localhost:3000", "", false},

		{"same-origin by Host", nil, "127.0.0.1:3001", "http://127.0.0.1:3001", "", true},
		{"same-origin by Host, default port", nil, "example.com", "http://example.com:80", "", true},
		{"same-origin by Host, https default port", nil, "example.com:443", "https://example.com", "", true},
		{"same-origin by Host, case", nil, "Example.COM", "http://example.com", "", true},
		{"Host differs by port", nil, "127.0.0.1:3001", "http://127.0.0.1:3000", "", false},
		// Next's rewrite: the browser talks to localhost:3000, Next proxies to
		// the backend, so Host is the backend's and X-Forwarded-Host the
		// browser's.
		{"Next rewrite", nil, "127.0.0.1:3001", "http://localhost:3000", "localhost:3000", true},
		{"Next rewrite, proxy chain", nil, "127.0.0.1:3001", "http://localhost:3000", "localhost:3000, 10.0.0.1:3000", true},
		{"X-Forwarded-Host wins over Host", nil, "localhost:3000", "http://localhost:3000", "app.example.com", false},
		{"X-Forwarded-Host of another site", nil, "127.0.0.1:3001", "https://evil.example", "localhost:3000", false},

		{"wildcard allows anything", []string{"*"}, "127.0.0.1:3001", "https://evil.example", "", true},
		{"wildcard allows null", []string{"*"}, "127.0.0.1:3001", "null", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := NewPolicy(tt.origins)
			r := request(http.MethodGet, tt.host, tt.origin, tt.forwardedHost)
			if got := p.Allows(r); got != tt.want {
				t.Errorf("Allows(Origin=%q Host=%q X-Forwarded-Host=%q) = %v, want %v",
					tt.origin, tt.host, tt.forwardedHost, got, tt.want)
			}
		})
	}
}

func TestCredentials(t *testing.T) {
	tests := []struct {
		origins []string
		want    bool
	}{
		{nil, true},
		{[]string{"https://app.example.com"}, true},
		{[]string{"*"}, false},
		{[]string{"https://app.example.com", "*"}, false},
	}
	for _, tt := range tests {
		p := NewPolicy(tt.origins)
		if got := p.Credentials(); got != tt.want {
			t.Errorf("NewPolicy(%q).Credentials() = %v, want %v", tt.origins, got, tt.want)
		}
		// The Socket.IO path's headers: the origin reflected with
		// credentials, or "*" without.
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "/socket.io/?EIO=4&transport=polling", nil)
		req.Header.Set("Origin", "https://app.example.com")
		p.SocketIOCors().Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})).ServeHTTP(rec, req)
		wantOrigin := "https://app.example.com"
		if !tt.want {
			wantOrigin = "*"
		}
		if got := rec.Header().Get("Access-Control-Allow-Origin"); got != wantOrigin {
			t.Errorf("NewPolicy(%q): Access-Control-Allow-Origin %q, want %q", tt.origins, got, wantOrigin)
		}
		if got := rec.Header().Get("Access-Control-Allow-Credentials") == "true"; got != tt.want {
			t.Errorf("NewPolicy(%q): credentials %v, want %v", tt.origins, got, tt.want)
		}
	}
}

func TestGate(t *testing.T) {
	p := NewPolicy([]string{"https://app.example.com"})
	var passed, rejected []string
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		passed = append(passed, r.Header.Get("Origin"))
		w.WriteHeader(http.StatusTeapot)
	})
	gate := p.Gate(next, func(r *http.Request) { rejected = append(rejected, r.Header.Get("Origin")) })

	t.Run("allowed passes through", func(t *testing.T) {
		passed, rejected = nil, nil
		w := httptest.NewRecorder()
		gate.ServeHTTP(w, request(http.MethodGet, "127.0.0.1:3001", "https://app.example.com", ""))
		if w.Code != http.StatusTeapot || len(passed) != 1 || len(rejected) != 0 {
			t.Errorf("status %d, passed %q, rejected %q; want the next handler only", w.Code, passed, rejected)
		}
	})
	t.Run("refused gets 403 JSON", func(t *testing.T) {
		passed, rejected = nil, nil
		w := httptest.NewRecorder()
		gate.ServeHTTP(w, request(http.MethodGet, "127.0.0.1:3001", "https://evil.example", ""))
		if w.Code != http.StatusForbidden {
			t.Errorf("status %d, want 403", w.Code)
		}
		if ct := w.Header().Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type %q, want application/json", ct)
		}
		var body struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			t.Fatalf("body %q is not JSON: %v", w.Body, err)
		}
		if body.Code != 403 || body.Message == "" {
			t.Errorf("body %+v, want code 403 and a message", body)
		}
		if len(passed) != 0 {
			t.Errorf("next handler ran for a refused origin")
		}
		if len(rejected) != 1 || rejected[0] != "https://evil.example" {
			t.Errorf("onReject saw %q, want the refused origin once", rejected)
		}
	})
	t.Run("nil onReject", func(t *testing.T) {
		w := httptest.NewRecorder()
		p.Gate(next, nil).ServeHTTP(w, request(http.MethodGet, "127.0.0.1:3001", "https://evil.example", ""))
		if w.Code != http.StatusForbidden {
			t.Errorf("status %d, want 403", w.Code)
		}
	})
}

func TestHTTPCors(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	tests := []struct {
		name          string
		origins       []string
		method        string
		origin        string
		forwardedHost string
		wantOrigin    string // Access-Control-Allow-Origin; "" = absent
		wantCreds     bool
	}{
		{"listed, actual request", []string{"https://app.example.com"}, http.MethodPost, "https://app.example.com", "", "https://app.example.com", true},
		{"listed, preflight", []string{"https://app.example.com"}, http.MethodOptions, "https://app.example.com", "", "https://app.example.com", true},
		{"listed, other spelling reflected as sent", []string{"https://app.example.com"}, http.MethodPost, "https://app.example.com:443", "", "https://app.example.com:443", true},
		{"unlisted, actual request", []string{"https://app.example.com"}, http.MethodPost, "https://evil.example", "", "", false},
		{"unlisted, preflight", []string{"https://app.example.com"}, http.MethodOptions, "https://evil.example", "", "", false},
		{"same-origin through Next", nil, http.MethodPost, "http://localhost:3000", "localhost:3000", "http://localhost:3000", true},
		// "*" reflects the caller's origin but never allows credentials.
		{"wildcard, actual request", []string{"*"}, http.MethodPost, "https://any.example", "", "https://any.example", false},
		{"wildcard, preflight", []string{"*"}, http.MethodOptions, "https://any.example", "", "https://any.example", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := NewPolicy(tt.origins).HTTPCors().Handler(ok)
			r := request(tt.method, "127.0.0.1:3001", tt.origin, tt.forwardedHost)
			if tt.method == http.MethodOptions {
				r.Header.Set("Access-Control-Request-Method", http.MethodPost)
				r.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)

			if got := w.Header().Get("Access-Control-Allow-Origin"); got != tt.wantOrigin {
				t.Errorf("Access-Control-Allow-Origin = %q, want %q", got, tt.wantOrigin)
			}
			creds := w.Header().Get("Access-Control-Allow-Credentials") == "true"
			if creds != tt.wantCreds {
				t.Errorf("Access-Control-Allow-Credentials = %q, want credentials %v", w.Header().Get("Access-Control-Allow-Credentials"), tt.wantCreds)
			}
			if creds && w.Header().Get("Access-Control-Allow-Origin") == "*" {
				t.Error(`"*" with credentials`)
			}
			// Caches must not serve one origin's answer to another.
			vary := strings.Join(w.Header().Values("Vary"), ",")
			if !strings.Contains(vary, "Origin") {
				t.Errorf("Vary = %q, want Origin in it", vary)
			}
			if tt.method == http.MethodOptions && tt.wantOrigin != "" {
				if w.Code != http.StatusNoContent {
					t.Errorf("preflight status %d, want 204", w.Code)
				}
				allowHeaders := strings.ToLower(w.Header().Get("Access-Control-Allow-Headers"))
				if !strings.Contains(allowHeaders, "authorization") || !strings.Contains(allowHeaders, "content-type") {
					t.Errorf("Access-Control-Allow-Headers = %q, want authorization and content-type", allowHeaders)
				}
			}
		})
	}
}

// The policy's three consumers must agree: whatever Gate lets through,
// HTTPCors answers with CORS headers, and the other way round.
func TestGateAndHTTPCorsAgree(t *testing.T) {
	origins := []string{"https://App.Example.com", "http://localhost:3000"}
	p := NewPolicy(origins)
	ok := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	gate, cors := p.Gate(ok, nil), p.HTTPCors().Handler(ok)
	cases := []struct{ origin, forwardedHost string }{
		{"https://app.example.com", ""},
		{"https://app.example.com:443", ""},
		{"http://app.example.com", ""},
		{"http://localhost:3000", ""},
		{"http://localhost:3001", ""},
		{"http://127.0.0.1:3001", ""},
		{"http://localhost:4000", "localhost:4000"},
		{"https://evil.example", "localhost:3000"},
	}
	for _, c := range cases {
		wg := httptest.NewRecorder()
		gate.ServeHTTP(wg, request(http.MethodGet, "127.0.0.1:3001", c.origin, c.forwardedHost))
		wc := httptest.NewRecorder()
		cors.ServeHTTP(wc, request(http.MethodGet, "127.0.0.1:3001", c.origin, c.forwardedHost))
		gateAllows := wg.Code != http.StatusForbidden
		corsAllows := wc.Header().Get("Access-Control-Allow-Origin") != ""
		if gateAllows != corsAllows {
			t.Errorf("Origin %q X-Forwarded-Host %q: Gate allows %v, HTTPCors allows %v", c.origin, c.forwardedHost, gateAllows, corsAllows)
		}
	}
}
