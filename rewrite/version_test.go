package rewrite

import (
	"errors"
	"slices"
	"testing"
)

func mustVersion(t *testing.T, s string) Version {
	t.Helper()
	v, err := ParseVersion(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestParseVersion(t *testing.T) {
	for in, want := range map[string]Version{
		"16.2.5":             {16, 2, 5, ""},
		"v15.5.16":           {15, 5, 16, ""},
		"16.1.0-canary.12":   {16, 1, 0, "canary.12"},
		"14.2.35+build.7":    {14, 2, 35, ""},
		" 15.0.0-rc.1 ":      {15, 0, 0, "rc.1"},
		"15.0.0-rc.1+meta.2": {15, 0, 0, "rc.1"},
	} {
		got, err := ParseVersion(in)
		if err != nil || got != want {
			t.Errorf("ParseVersion(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "16", "16.2", "16.2.x", "a.b.c", "16.2.5.1", "-1.0.0"} {
		if got, err := ParseVersion(in); err == nil {
			t.Errorf("ParseVersion(%q) = %v, want an error", in, got)
		}
	}
}

func TestMinVersion(t *testing.T) {
	for in, want := range map[string]string{
		"^15.5.16":         "15.5.16",
		"~16.2":            "16.2.0",
		"15.x":             "15.0.0",
		"16":               "16.0.0",
		">=16.2.5 <17":     "16.2.5",
		">= 16.2.5":        "16.2.5",
		"16.2.5":           "16.2.5",
		"^16.1.0-canary.3": "16.1.0-canary.3",
		"^15.5.16 || ^16":  "15.5.16",
		"14.2.*":           "14.2.0",
	} {
		got, err := MinVersion(in)
		if err != nil || got.String() != want {
			t.Errorf("MinVersion(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
	for _, in := range []string{"", "latest", "canary", "*", "x", "<16", "workspace:*", "npm:next@16", "github:vercel/next.js", "1.2.3.4"} {
		if got, err := MinVersion(in); err == nil {
			t.Errorf("MinVersion(%q) = %v, want an error", in, got)
		}
	}
}

func TestCompare(t *testing.T) {
	// Ascending, from the semver spec's example plus Next's own tags.
	order := []string{
		"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
		"1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "15.5.15", "15.5.16-canary.1", "15.5.16",
		"16.0.0-canary.0", "16.0.0", "16.2.4", "16.2.5-canary.2", "16.2.5", "16.10.0",
	}
	for i := range order {
		for j := range order {
			a, b := mustVersion(t, order[i]), mustVersion(t, order[j])
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got := a.Compare(b); got != want {
				t.Errorf("%s.Compare(%s) = %d, want %d", a, b, got, want)
			}
		}
	}
}

func TestVulnerable(t *testing.T) {
	for in, want := range map[string]bool{
		"14.2.35":          true,
		"15.0.0":           true,
		"15.5.15":          true,
		"15.5.16-canary.1": true,
		"15.5.16":          false,
		"15.6.0":           false,
		"16.0.0-canary.1":  true,
		"16.0.0":           true,
		"16.2.4":           true,
		"16.2.5-canary.1":  true,
		"16.2.5":           false,
		"16.4.6":           false,
	} {
		if got := mustVersion(t, in).Vulnerable(); got != want {
			t.Errorf("%s.Vulnerable() = %v, want %v", in, got, want)
		}
	}
}

func TestCheck(t *testing.T) {
	for in, want := range map[string]error{
		"13.5.6":  errUnsupported,
		"17.0.0":  errUnsupported,
		"14.2.35": ErrVulnerable,
		"16.2.0":  ErrVulnerable,
		"15.5.16": nil,
		"16.4.6":  nil,
	} {
		err := mustVersion(t, in).Check()
		switch {
		case want == nil && err != nil, want != nil && err == nil:
			t.Errorf("%s.Check() = %v, want %v", in, err, want)
		case want == ErrVulnerable && !errors.Is(err, ErrVulnerable):
			t.Errorf("%s.Check() = %v, want ErrVulnerable", in, err)
		case want == errUnsupported && errors.Is(err, ErrVulnerable):
			t.Errorf("%s.Check() = %v, want unsupported", in, err)
		}
	}
	if got, want := mustVersion(t, "16.2.0").Check().Error(),
		"vulnerable Next.js release: WebSocket-upgrade SSRF GHSA-c4j6-fc7j-m34r (Next.js 16.2.0; fixed in 15.5.16 and 16.2.5)"; got != want {
		t.Errorf("Check message = %q, want %q", got, want)
	}
}

// errUnsupported stands for Check's unsupported-version error in the table.
var errUnsupported = errors.New("unsupported")

func TestPerVersionRules(t *testing.T) {
	for _, tc := range []struct {
		version                         string
		hooks                           []string
		breaksUpgrade, instrFlag, tsCfg bool
	}{
		{"14.2.35", []string{"middleware"}, true, true, false},
		{"15.5.29", []string{"middleware"}, false, false, true},
		{"16.4.6", []string{"proxy", "middleware"}, false, false, true},
	} {
		v := mustVersion(t, tc.version)
		if got := v.RequestHooks(); !slices.Equal(got, tc.hooks) {
			t.Errorf("%s.RequestHooks() = %v, want %v", v, got, tc.hooks)
		}
		if got := v.MiddlewareBreaksUpgrade(); got != tc.breaksUpgrade {
			t.Errorf("%s.MiddlewareBreaksUpgrade() = %v, want %v", v, got, tc.breaksUpgrade)
		}
		if got := v.InstrumentationFlag(); got != tc.instrFlag {
			t.Errorf("%s.InstrumentationFlag() = %v, want %v", v, got, tc.instrFlag)
		}
		if got := v.TypeScriptConfig(); got != tc.tsCfg {
			t.Errorf("%s.TypeScriptConfig() = %v, want %v", v, got, tc.tsCfg)
		}
	}
}
