package rewrite

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Version is a Next.js release number (semver).
type Version struct {
	Major, Minor, Patch int
	Pre                 string // prerelease, e.g. "canary.3"; empty for a release
}

// ParseVersion reads a version as package.json's "version" writes it.
func ParseVersion(s string) (Version, error) {
	noBuild, _, _ := strings.Cut(strings.TrimSpace(s), "+") // build metadata has no precedence
	core, pre, _ := strings.Cut(strings.TrimPrefix(noBuild, "v"), "-")
	parts := strings.Split(core, ".")
	if len(parts) != 3 {
		return Version{}, fmt.Errorf("version %q: want major.minor.patch", s)
	}
	var n [3]int
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil || v < 0 {
			return Version{}, fmt.Errorf("version %q: %q is not a number", s, p)
		}
		n[i] = v
	}
	return Version{Major: n[0], Minor: n[1], Patch: n[2], Pre: pre}, nil
}

// MinVersion returns the lowest version a package.json dependency range
// admits: "^15.5.16", "~16.2", "15.x", ">=16.2.5 <17" and "16" give their
// lower bound. It is used when node_modules is missing, so a vulnerable
// lower bound is judged vulnerable. Tags ("latest", "canary"), "*", URLs and
// upper bounds only ("<16") cannot be judged and return an error.
func MinVersion(spec string) (Version, error) {
	first, _, _ := strings.Cut(spec, "||")
	first = strings.TrimSpace(first)
	bound, _, _ := strings.Cut(strings.TrimLeft(first, "^~>= v"), " ")
	if first == "" || strings.HasPrefix(first, "<") || bound == "" {
		return Version{}, fmt.Errorf("range %q: no lower bound", spec)
	}
	core, pre, _ := strings.Cut(bound, "-")
	parts := strings.Split(core, ".")
	if len(parts) > 3 {
		return Version{}, fmt.Errorf("range %q: not a version range", spec)
	}
	for len(parts) < 3 {
		parts = append(parts, "0")
	}
	for i, p := range parts {
		if p == "x" || p == "X" || p == "*" {
			if i == 0 {
				return Version{}, fmt.Errorf("range %q: no lower bound", spec)
			}
			parts[i] = "0"
		}
	}
	v := strings.Join(parts, ".")
	if pre != "" {
		v += "-" + pre
	}
	min, err := ParseVersion(v)
	if err != nil {
		return Version{}, fmt.Errorf("range %q: not a version range", spec)
	}
	return min, nil
}

func (v Version) String() string {
	s := fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch)
	if v.Pre != "" {
		s += "-" + v.Pre
	}
	return s
}

// Compare orders versions by semver precedence: -1, 0 or +1. A prerelease
// comes before its release (16.2.5-canary.1 < 16.2.5).
func (v Version) Compare(w Version) int {
	for _, d := range [3]int{v.Major - w.Major, v.Minor - w.Minor, v.Patch - w.Patch} {
		if d != 0 {
			return sign(d)
		}
	}
	switch {
	case v.Pre == w.Pre:
		return 0
	case v.Pre == "":
		return 1
	case w.Pre == "":
		return -1
	}
	a, b := strings.Split(v.Pre, "."), strings.Split(w.Pre, ".")
	for i := range min(len(a), len(b)) {
		if c := comparePre(a[i], b[i]); c != 0 {
			return c
		}
	}
	return sign(len(a) - len(b))
}

// comparePre orders two prerelease identifiers: numbers numerically and
// before words, words by ASCII.
func comparePre(a, b string) int {
	x, errA := strconv.Atoi(a)
	y, errB := strconv.Atoi(b)
	switch {
	case errA == nil && errB == nil:
		return sign(x - y)
	case errA == nil:
		return -1
	case errB == nil:
		return 1
	}
	return strings.Compare(a, b)
}

func sign(d int) int {
	switch {
	case d < 0:
		return -1
	case d > 0:
		return 1
	}
	return 0
}

// The Next majors whose behaviour this package models.
const (
	OldestSupported = 14
	NewestSupported = 16
)

// Advisory is the WebSocket-upgrade SSRF in self-hosted Next: a crafted
// upgrade request makes the server connect where the attacker says.
const Advisory = "GHSA-c4j6-fc7j-m34r"

// ErrVulnerable marks a Next release that has Advisory.
var ErrVulnerable = errors.New("vulnerable Next.js release: WebSocket-upgrade SSRF " + Advisory)

// fixedIn lists, per affected major, the first release without Advisory.
// Every release before 15 is affected.
var fixedIn = map[int]Version{
	15: {Major: 15, Minor: 5, Patch: 16},
	16: {Major: 16, Minor: 2, Patch: 5},
}

// Vulnerable reports whether v has Advisory: everything before 15.5.16, and
// 16.0.0 to 16.2.4. Prereleases of a fixed release count as before it.
func (v Version) Vulnerable() bool {
	if v.Major < 15 {
		return true
	}
	fixed, ok := fixedIn[v.Major]
	return ok && v.Compare(fixed) < 0
}

// Check returns an error for a version this package does not model, or one
// wrapping ErrVulnerable for a release with Advisory, naming the fix.
func (v Version) Check() error {
	if v.Major < OldestSupported || v.Major > NewestSupported {
		return fmt.Errorf("unsupported Next.js %s (supported: %d to %d)", v, OldestSupported, NewestSupported)
	}
	if v.Vulnerable() {
		return fmt.Errorf("%w (Next.js %s; fixed in %s and %s)", ErrVulnerable, v, fixedIn[15], fixedIn[16])
	}
	return nil
}

// RequestHooks returns the file names (without extension) that Next runs
// before routing, the one to write first: Next 16 renamed middleware to
// proxy (middleware.* still runs there, deprecated); 14 and 15 only know
// middleware. The file exports a function of the same name.
func (v Version) RequestHooks() []string {
	if v.Major >= 16 {
		return []string{"proxy", "middleware"}
	}
	return []string{"middleware"}
}

// MiddlewareBreaksUpgrade reports whether Next fails a websocket upgrade
// whose path the app's middleware matches: Next 14 runs the middleware on
// the upgrade request with the raw socket for a response, which throws
// (TypeError in handleRequestImpl), and the client gets no upgrade. 15 and
// 16 run it on a mocked response and go on to the rewrite. So on 14 the
// middleware's matcher must leave out the socket path.
func (v Version) MiddlewareBreaksUpgrade() bool {
	return v.Major < 15
}

// InstrumentationFlag reports whether instrumentation.(js|ts) only runs with
// experimental.instrumentationHook set (Next 14; stable from 15).
func (v Version) InstrumentationFlag() bool {
	return v.Major < 15
}

// TypeScriptConfig reports whether Next loads next.config.ts (from 15).
func (v Version) TypeScriptConfig() bool {
	return v.Major >= 15
}
