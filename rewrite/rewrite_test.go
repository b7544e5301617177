package rewrite

import (
	"slices"
	"testing"
	"time"
)

func TestRules(t *testing.T) {
	got := Rules("/socket.io/", "http://127.0.0.1:3001")
	want := []Rule{
		{Source: "/socket.io/", Destination: "http://127.0.0.1:3001/socket.io/"},
		{Source: "/socket.io/:path+", Destination: "http://127.0.0.1:3001/socket.io/:path+"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("Rules = %v, want %v", got, want)
	}
}

func TestExempt(t *testing.T) {
	for path, want := range map[string]bool{
		"/socket.io/":    true,
		"/socket.io/abc": true,
		"/socket.io":     false, // not the rewritten path: Next serves its 404
		"/socketXio/":    false,
		"/about/":        false,
		"/":              false,
	} {
		if got := Exempt("/socket.io/", path); got != want {
			t.Errorf("Exempt(%q) = %v, want %v", path, got, want)
		}
	}
}

func TestMatcher(t *testing.T) {
	for path, want := range map[string]string{
		"/socket.io/": `/((?!_next/|socket\.io/).*)`,
		"/rt/":        `/((?!_next/|rt/).*)`,
		"/a.b/c+d/":   `/((?!_next/|a\.b/c\+d/).*)`,
	} {
		if got := Matcher(path); got != want {
			t.Errorf("Matcher(%q) = %q, want %q", path, got, want)
		}
	}
}

// trailingSlashCases follow Next's own redirects (load-custom-routes).
var trailingSlashCases = []struct {
	path          string
	trailingSlash bool
	location      string // "" for no redirect
}{
	{"/", false, ""},
	{"/about", false, ""},
	{"/about/", false, "/about"},
	{"/a/b/", false, "/a/b"},
	{"/about//", false, "/about/"},
	{"/file.txt/", false, "/file.txt"},
	{"/socket.io/", false, ""},
	{"/socket.io/x/", false, ""},
	{"/socket.io", false, ""},
	{"//evil.example/", false, ""},
	{"/%2F%2Fevil.example/", false, "/%2F%2Fevil.example"},
	{"/", true, ""},
	{"/about", true, "/about/"},
	{"/about/", true, ""},
	{"/a/b", true, "/a/b/"},
	{"/file.txt", true, ""},
	{"/file.txt/", true, "/file.txt"},
	{"/dir/archive.tar.gz/", true, "/dir/archive.tar.gz"},
	{"/.htaccess/", true, ""},
	{"/v1.", true, ""},
	{"/.well-known/thing", true, ""},
	{"/.well-known", true, ""},
	{"/socket.io/", true, ""},
	{"/socket.io", true, ""}, // a dot in the last segment: neither file nor page
	{"//evil.example", true, ""},
}

func TestTrailingSlashRedirect(t *testing.T) {
	for _, tc := range trailingSlashCases {
		got, ok := TrailingSlashRedirect("/socket.io/", tc.path, tc.trailingSlash)
		if got != tc.location || ok != (tc.location != "") {
			t.Errorf("TrailingSlashRedirect(%q, trailingSlash=%v) = %q, %v; want %q", tc.path, tc.trailingSlash, got, ok, tc.location)
		}
	}
}

func TestConflicts(t *testing.T) {
	for source, want := range map[string]bool{
		"/socket.io":        true,
		"/socket.io/":       true,
		"/socket.io/:path*": true,
		"/socket.io/:path+": true,
		"/:path*":           false, // the socket rules come first (beforeFiles)
		"/api/:path*":       false,
		"/socket.iox":       false,
	} {
		if got := Conflicts("/socket.io/", source); got != want {
			t.Errorf("Conflicts(%q) = %v, want %v", source, got, want)
		}
	}
}

func TestDefaultTarget(t *testing.T) {
	for _, tc := range []struct {
		host string
		want string
	}{
		{"127.0.0.1", "http://127.0.0.1:3001"},
		{"0.0.0.0", "http://127.0.0.1:3001"},
		{"::", "http://127.0.0.1:3001"},
		{"", "http://127.0.0.1:3001"},
		{"::1", "http://[::1]:3001"},
		{"sockside", "http://sockside:3001"},
	} {
		if got := DefaultTarget(tc.host, 3001); got != tc.want {
			t.Errorf("DefaultTarget(%q) = %q, want %q", tc.host, got, tc.want)
		}
	}
}

func TestParseTarget(t *testing.T) {
	for in, want := range map[string]string{
		"http://sockside:3001":   "http://sockside:3001",
		"http://sockside:3001/":  "http://sockside:3001",
		"https://rt.example.com": "https://rt.example.com",
		"http://[::1]:3001":      "http://[::1]:3001",
	} {
		got, err := ParseTarget(in)
		if err != nil || got != want {
			t.Errorf("ParseTarget(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{
		"sockside:3001", "ws://sockside:3001", "http://", "http://:3001",
		"http://sockside:3001/socket.io/", "http://sockside?x=1", "http://u:p@sockside", "http://sockside#f", "http://%zz",
	} {
		if got, err := ParseTarget(in); err == nil {
			t.Errorf("ParseTarget(%q) = %q, want an error", in, got)
		}
	}
}

func TestProxyTimeout(t *testing.T) {
	for _, tc := range []struct {
		interval, timeout, want time.Duration
	}{
		{25 * time.Second, 20 * time.Second, 0}, // the server's defaults fit Next's 30 s
		{10 * time.Second, 60 * time.Second, 0},
		{26 * time.Second, 20 * time.Second, 46 * time.Second},
		{30 * time.Second, 20 * time.Second, 50 * time.Second},
		{45 * time.Second, 2 * time.Second, 50 * time.Second}, // headroom at least
	} {
		if got := ProxyTimeout(tc.interval, tc.timeout); got != tc.want {
			t.Errorf("ProxyTimeout(%s, %s) = %s, want %s", tc.interval, tc.timeout, got, tc.want)
		}
	}
}
