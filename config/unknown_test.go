package config

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// warningsAbout keeps the warnings whose subject (the text up to the first
// space) is one of names, so the developer's own environment cannot make a
// test pass or fail.
func warningsAbout(w []string, names ...string) []string {
	var kept []string
	for _, s := range w {
		subject, _, _ := strings.Cut(s, " ")
		if slices.Contains(names, subject) {
			kept = append(kept, s)
		}
	}
	return kept
}

func TestUnknownVariablesEnvironment(t *testing.T) {
	tests := []struct{ name, want string }{
		{"SOCKET_PING_INTERVALL", "SOCKET_PING_INTERVALL is not a setting; did you mean SOCKET_PING_INTERVAL?"},
		{"SOKET_EMIT_SECRET", "SOKET_EMIT_SECRET is not a setting; did you mean SOCKET_EMIT_SECRET?"},
		{"SOCKET_PROT", "SOCKET_PROT is not a setting; did you mean SOCKET_PORT?"},
		{"socket_port", "socket_port is not a setting; did you mean SOCKET_PORT?"},
		{"SOCK_HOST", "SOCK_HOST is not a setting; did you mean SOCKET_HOST?"},
		{"REDIS_URI", "REDIS_URI is not a setting; did you mean REDIS_URL?"},
		{"SOCKET_INTERNAL_URI", "SOCKET_INTERNAL_URI is not a setting; did you mean SOCKET_INTERNAL_URL?"},
		{"SOCKET_HEADER_TIMEOUT", "SOCKET_HEADER_TIMEOUT is not a setting; did you mean SOCKET_READ_HEADER_TIMEOUT?"},
		{"SOCKET_HOOKS_URI", "SOCKET_HOOKS_URI is not a setting; did you mean SOCKET_HOOKS_URL?"},
		{"SOCKET_FOO", "SOCKET_FOO is not a setting"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(tt.name, "x")
			got := warningsAbout(UnknownVariables(), tt.name)
			if !slices.Equal(got, []string{tt.want}) {
				t.Errorf("UnknownVariables() about %s = %q, want %q", tt.name, got, tt.want)
			}
		})
	}
}

func TestUnknownVariablesDotenv(t *testing.T) {
	dotenv := writeFile(t, ".env", strings.Join([]string{
		"SOCKET_PORT=4001",
		"SOCKET_PING_INTERVALL=20s",
		"export SOKET_EMIT_SECRET=0123456789abcdef",
		"FOO=bar",
		"LOG_LEVL=debug",
		"SOCKET_INTERNAL_URL=http://127.0.0.1:3001",
		"NEXT_PUBLIC_SOCKET_URL=",
		"WEB_PORT=3000",
	}, "\n"))
	got := UnknownVariables(dotenv)
	want := []string{
		"FOO in " + dotenv + " is not a setting",
		"LOG_LEVL in " + dotenv + " is not a setting; did you mean LOG_LEVEL?",
		"SOCKET_PING_INTERVALL in " + dotenv + " is not a setting; did you mean SOCKET_PING_INTERVAL?",
		"SOKET_EMIT_SECRET in " + dotenv + " is not a setting; did you mean SOCKET_EMIT_SECRET?",
	}
	if about := warningsAbout(got, "FOO", "LOG_LEVL", "SOCKET_PING_INTERVALL", "SOKET_EMIT_SECRET"); !slices.Equal(about, want) {
		t.Errorf("UnknownVariables(.env) =\n%q\nwant\n%q", about, want)
	}
	for _, name := range []string{"SOCKET_PORT", "SOCKET_INTERNAL_URL", "NEXT_PUBLIC_SOCKET_URL", "WEB_PORT"} {
		if about := warningsAbout(got, name); len(about) != 0 {
			t.Errorf("warned about %s in .env: %q", name, about)
		}
	}
}

// Each place a misspelling sits in gets its own warning, so both get fixed.
func TestUnknownVariablesEnvironmentAndDotenv(t *testing.T) {
	dotenv := writeFile(t, ".env", "SOCKET_PING_INTERVALL=20s\n")
	t.Setenv("SOCKET_PING_INTERVALL", "20s")
	got := warningsAbout(UnknownVariables(dotenv), "SOCKET_PING_INTERVALL")
	want := []string{
		"SOCKET_PING_INTERVALL in " + dotenv + " is not a setting; did you mean SOCKET_PING_INTERVAL?",
		"SOCKET_PING_INTERVALL is not a setting; did you mean SOCKET_PING_INTERVAL?",
	}
	if !slices.Equal(got, want) {
		t.Errorf("UnknownVariables() = %q, want %q", got, want)
	}
}

func TestUnknownVariablesIgnoresOtherPrograms(t *testing.T) {
	others := []string{
		"PATH", "HOME", "NODE_ENV", "NEXT_PUBLIC_X", "NEXT_PUBLIC_SOCKET_HOST", // 4 edits from NEXT_PUBLIC_SOCKET_PATH
		"NEXT_TELEMETRY_DISABLED", "PORT", "HOSTNAME",
		"REDIS_HOST", "REDIS_PORT", "REDIS_PASSWORD", "LOG_FORMAT", "LOG_DIR", "SSH_AUTH_SOCK",
		"SOCKSIDE_BIN", "SOCKSIDE_NODE1", "SOCKSIDE_LB_BIND", "BENCH_CPUPROFILE", "GOFLAGS",
	}
	for _, name := range others {
		t.Setenv(name, "x")
	}
	if got := warningsAbout(UnknownVariables(), others...); len(got) != 0 {
		t.Errorf("warned about other programs' variables: %q", got)
	}
}

func TestUnknownVariablesAcceptsKnownNames(t *testing.T) {
	var lines []string
	for _, name := range knownVariables {
		t.Setenv(name, "")
		lines = append(lines, name+"=")
	}
	dotenv := writeFile(t, ".env", strings.Join(lines, "\n"))
	if got := warningsAbout(UnknownVariables(dotenv), knownVariables...); len(got) != 0 {
		t.Errorf("warned about known names: %q", got)
	}
}

func TestUnknownVariablesSorted(t *testing.T) {
	dotenv := writeFile(t, ".env", "ZZZ=1\nAAA=1\nSOCKET_PING_INTERVALL=1\n")
	t.Setenv("SOCKET_ZZZ", "1")
	t.Setenv("SOCKET_AAA", "1")
	got := UnknownVariables(dotenv)
	if !slices.IsSorted(got) {
		t.Errorf("UnknownVariables() not sorted: %q", got)
	}
	if len(warningsAbout(got, "ZZZ", "AAA", "SOCKET_PING_INTERVALL", "SOCKET_ZZZ", "SOCKET_AAA")) != 5 {
		t.Errorf("UnknownVariables() = %q, want a warning for each of the five", got)
	}
}

func TestUnknownVariablesFiles(t *testing.T) {
	t.Run("missing .env is fine", func(t *testing.T) {
		missing := filepath.Join(t.TempDir(), "no.env")
		for _, w := range UnknownVariables(missing) {
			if strings.Contains(w, missing) {
				t.Errorf("warning about a missing .env: %q", w)
			}
		}
	})
	t.Run("unreadable .env is a warning", func(t *testing.T) {
		dir := t.TempDir() // a directory exists but cannot be read as a file
		if got := warningsAbout(UnknownVariables(dir), dir); len(got) != 1 || !strings.HasPrefix(got[0], dir+" not checked for unknown variables: ") {
			t.Errorf("UnknownVariables(%s) = %q, want one warning that it was not checked", dir, got)
		}
	})
}

// The list must not go stale: a variable that becomes a setting moves out
// of it.
func TestOtherVariablesAreNotSettings(t *testing.T) {
	settings := envNames(t)
	for _, name := range otherVariables {
		if slices.Contains(settings, name) {
			t.Errorf("%s is a setting now; remove it from otherVariables", name)
		}
	}
}

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"abc", "", 3},
		{"", "abc", 3},
		{"abc", "abc", 0},
		{"ab", "ba", 1}, // a swap is one typo
		{"SOCKET_PROT", "SOCKET_PORT", 1},
		{"SOKET_EMIT_SECRET", "SOCKET_EMIT_SECRET", 1},
		{"kitten", "sitting", 3},
		{"CA", "ABC", 3}, // optimal string alignment: no edits inside a swapped pair
	}
	for _, tt := range tests {
		if got := editDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := editDistance(tt.b, tt.a); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d (symmetric)", tt.b, tt.a, got, tt.want)
		}
	}
}
