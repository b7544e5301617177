// Package rewrite is the model of how a Next.js app reaches the sockside
// server through Next's own rewrite table: the two rules, the paths that must
// escape Next's trailing-slash redirect, the proxy timeout the server's ping
// settings call for, and the rules that differ between Next versions
// (version.go). It does no I/O; nextconfig renders it into files.
//
// What it encodes was measured against Next 14.2, 15.5 and 16.4 with a
// Socket.IO server on a side port; the reasons are given next to each rule.
package rewrite

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Rule is one entry of Next's rewrite table (its JSON is Next's shape).
type Rule struct {
	Source      string `json:"source"`      // path pattern matched against the request
	Destination string `json:"destination"` // absolute URL on the server
}

// Rules returns the rewrites that carry socketPath (the server's SOCKET_PATH,
// with leading and trailing slash) to the same path on target, for polling
// and the websocket upgrade alike.
//
// A single "/socket.io/:path*" rule does not work: with an empty :path* Next
// drops the trailing slash and the server gets /socket.io?EIO=4 (404 for
// polling, a parse error on the upgraded socket). So the bare path has an
// exact rule of its own and everything below it uses the one-or-more :path+.
func Rules(socketPath, target string) []Rule {
	rules := make([]Rule, 0, 2)
	for _, source := range []string{socketPath, socketPath + ":path+"} {
		rules = append(rules, Rule{Source: source, Destination: target + source})
	}
	return rules
}

// Exempt reports whether requestPath is the socket path or below it. Those
// requests must escape Next's trailing-slash redirect, which runs before the
// rewrites: it answers polling with 308 -> /socket.io?EIO=4 (past the rule)
// and the websocket upgrade with nothing at all.
func Exempt(socketPath, requestPath string) bool {
	return strings.HasPrefix(requestPath, socketPath)
}

// Matcher is the middleware matcher for the trailing-slash redirect: every
// path but Next's own assets (/_next/) and the exempt socket path, in the
// path-to-regexp form of Next's documented example.
func Matcher(socketPath string) string {
	return "/((?!_next/|" + regexp.QuoteMeta(strings.TrimPrefix(socketPath, "/")) + ").*)"
}

// fileSegment is Next's test for a last path segment that names a file
// (name.ext), which trailingSlash: true leaves without a slash.
var fileSegment = regexp.MustCompile(`^[^/]+\.\w+$`)

// TrailingSlashRedirect returns the Location that Next's own trailing-slash
// redirect would send for requestPath (a URL path, query excluded) and true,
// or false when the path is left alone. The app turns Next's redirect off
// (skipTrailingSlashRedirect) to let the socket path through, and the
// generated middleware puts it back with this rule:
//   - trailingSlash false (Next's default): /about/ -> /about;
//   - trailingSlash true: /about -> /about/ and /file.txt/ -> /file.txt,
//     /.well-known/... untouched;
//   - never the socket path (Exempt), and never a path starting with // ,
//     which would become a protocol-relative Location: an open redirect.
func TrailingSlashRedirect(socketPath, requestPath string, trailingSlash bool) (string, bool) {
	if requestPath == "/" || Exempt(socketPath, requestPath) || strings.HasPrefix(requestPath, "//") {
		return "", false
	}
	slash := strings.HasSuffix(requestPath, "/")
	trimmed := strings.TrimSuffix(requestPath, "/")
	switch {
	case !trailingSlash && slash:
		return trimmed, true
	case !trailingSlash, requestPath == "/.well-known", strings.HasPrefix(requestPath, "/.well-known/"):
		return "", false
	}
	last := trimmed[strings.LastIndex(trimmed, "/")+1:]
	switch {
	case slash && fileSegment.MatchString(last):
		return trimmed, true
	case !slash && !strings.Contains(last, "."):
		return requestPath + "/", true
	}
	return "", false
}

// Conflicts reports whether a rewrite source from the app's own config
// routes the socket path itself. The generated rules come first
// (beforeFiles), so such a rule would be dead or, worse, half-work.
func Conflicts(socketPath, source string) bool {
	return source == strings.TrimSuffix(socketPath, "/") || strings.HasPrefix(source, socketPath)
}

// DefaultTarget is the server's URL as Next reaches it on the same host:
// SOCKET_HOST:SOCKET_PORT, with an unspecified listen address (empty,
// 0.0.0.0, ::) replaced by loopback, which it also listens on.
func DefaultTarget(host string, port int) string {
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, strconv.Itoa(port))
}

// ParseTarget checks a server URL given by hand (in docker, the service
// name): http or https, a host, and nothing after it. It returns the URL
// without a trailing slash, ready to prefix a rule's path.
func ParseTarget(s string) (string, error) {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return "", fmt.Errorf("target %q: %w", s, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("target %q: want an http:// or https:// URL", s)
	case u.Host == "" || u.Hostname() == "":
		return "", fmt.Errorf("target %q: no host", s)
	case u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "":
		return "", fmt.Errorf("target %q: want only scheme://host:port (the socket path comes from SOCKET_PATH)", s)
	}
	return u.Scheme + "://" + u.Host, nil
}

// NextProxyTimeout is Next's default experimental.proxyTimeout: how long its
// rewrite proxy waits for the answer to a plain HTTP request before it
// answers 500 itself. Upgraded websockets have no such timeout.
const NextProxyTimeout = 30 * time.Second

// proxyHeadroom is the margin kept between the longest a long-poll is held
// and the moment Next's proxy gives up on it.
const proxyHeadroom = 5 * time.Second

// ProxyTimeout returns the experimental.proxyTimeout that the server's ping
// settings need, or 0 when Next's default is long enough.
//
// The server holds a polling GET until it has a packet to send, at the
// latest the next ping, pingInterval later. The default (25 s) fits under
// NextProxyTimeout with headroom; anything longer does not. When a timeout is
// needed it covers the slowest case too: a ping left unanswered for
// pingTimeout.
func ProxyTimeout(pingInterval, pingTimeout time.Duration) time.Duration {
	if pingInterval+proxyHeadroom <= NextProxyTimeout {
		return 0
	}
	return pingInterval + max(pingTimeout, proxyHeadroom)
}
