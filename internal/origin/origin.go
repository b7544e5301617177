// Package origin decides which browser origins may talk to the server. One
// Policy drives every CORS layer (rs/cors for plain HTTP endpoints, the
// Socket.IO library's CORS headers, and the gate in front of websocket
// upgrades), so they can never disagree.
package origin

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/rs/cors"
)

// Policy is an allow-list of cross-origin callers. Requests without an Origin
// header (non-browser clients) and same-origin requests are always allowed.
type Policy struct {
	allowed  map[string]bool
	wildcard bool
}

// NewPolicy builds a policy from origins such as "https://app.example.com".
// The single entry "*" allows any origin, but then never with credentials.
func NewPolicy(origins []string) *Policy {
	p := &Policy{allowed: make(map[string]bool, len(origins))}
	for _, o := range origins {
		if o == "*" {
			p.wildcard = true
			continue
		}
		p.allowed[normalize(o)] = true
	}
	return p
}

// Credentials reports whether cross-origin callers may send cookies. The
// CORS spec forbids credentials with a wildcard, so "*" turns them off.
func (p *Policy) Credentials() bool { return !p.wildcard }

// Listed reports whether origin is on the allow-list (or the list is "*").
func (p *Policy) Listed(origin string) bool {
	return p.wildcard || p.allowed[normalize(origin)]
}

// Allows reports whether r may proceed: no Origin, a same-origin request, or
// a listed origin. Same-origin is judged against X-Forwarded-Host first,
// because behind Next's rewrite proxy Host is the backend's own address while
// Origin and X-Forwarded-Host carry the browser's. A browser cannot forge
// X-Forwarded-Host on a cross-origin websocket or simple request.
func (p *Policy) Allows(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	return p.Listed(o) || SameOrigin(r, o)
}

// SameOrigin reports whether origin names the host the browser addressed.
func SameOrigin(r *http.Request, origin string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	host := r.Header.Get("X-Forwarded-Host")
	if i := strings.IndexByte(host, ','); i >= 0 {
		host = host[:i]
	}
	host = strings.TrimSpace(host)
	if host == "" {
		host = r.Host
	}
	return strings.EqualFold(withDefaultPort(u.Host, u.Scheme), withDefaultPort(host, u.Scheme))
}

// Gate refuses requests from origins the policy does not allow with 403 and
// a JSON reason, calling onReject first (for metrics). It guards both
// long-polling and websocket upgrades.
func (p *Policy) Gate(next http.Handler, onReject func(r *http.Request)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !p.Allows(r) {
			if onReject != nil {
				onReject(r)
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`{"code":403,"message":"origin not allowed"}`))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// SocketIOCors is the CORS of the Socket.IO path. The origin check always
// passes because Gate has already refused disallowed origins; what is left
// is the header: "*" for a wildcard policy (as Node's server answers origin
// "*"), else the origin reflected, with credentials only when allowed, and
// any request header (socket.io-client's extraHeaders), as Node's cors
// package reflects them.
func (p *Policy) SocketIOCors() *cors.Cors {
	o := cors.Options{
		AllowedMethods: []string{http.MethodGet, http.MethodPost, http.MethodOptions},
		AllowedHeaders: []string{"*"},
	}
	if p.wildcard {
		o.AllowedOrigins = []string{"*"}
	} else {
		o.AllowOriginFunc = func(string) bool { return true }
		o.AllowCredentials = p.Credentials()
	}
	return cors.New(o)
}

// HTTPCors wraps plain HTTP endpoints with rs/cors driven by the same policy.
func (p *Policy) HTTPCors() *cors.Cors {
	return cors.New(cors.Options{
		AllowOriginVaryRequestFunc: func(r *http.Request, origin string) (bool, []string) {
			return p.Listed(origin) || SameOrigin(r, origin), []string{"X-Forwarded-Host"}
		},
		AllowedMethods:   []string{http.MethodGet, http.MethodPost, http.MethodOptions},
		AllowedHeaders:   []string{"Authorization", "Content-Type"},
		AllowCredentials: p.Credentials(),
	})
}

func normalize(origin string) string {
	u, err := url.Parse(strings.TrimSuffix(strings.TrimSpace(origin), "/"))
	if err != nil || u.Host == "" {
		return strings.ToLower(origin)
	}
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(withDefaultPort(u.Host, u.Scheme))
}

func withDefaultPort(host, scheme string) string {
	if strings.LastIndexByte(host, ':') > strings.LastIndexByte(host, ']') {
		return strings.ToLower(host)
	}
	switch scheme {
	case "https", "wss":
		return strings.ToLower(host) + ":443"
	default:
		return strings.ToLower(host) + ":80"
	}
}
