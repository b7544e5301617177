package config

import (
	"errors"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// lookupFrom is a Load lookup backed by a map, so tests never depend on the
// process environment.
func lookupFrom(env map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	}
}

// envNames lists every variable Config reads, in field order.
func envNames(t *testing.T) []string {
	t.Helper()
	var names []string
	typ := reflect.TypeFor[Config]()
	for i := range typ.NumField() {
		name := typ.Field(i).Tag.Get("env")
		if name == "" {
			t.Fatalf("field %s has no env tag", typ.Field(i).Name)
		}
		names = append(names, name)
	}
	return names
}

// clearEnv unsets every config variable for the test's duration. t.Setenv
// first, so the original values come back afterwards; then Unsetenv, because
// a variable set to "" still counts as set and would mask the .env file.
func clearEnv(t *testing.T) {
	t.Helper()
	for _, name := range envNames(t) {
		t.Setenv(name, "")
		if err := os.Unsetenv(name); err != nil {
			t.Fatal(err)
		}
	}
}

func TestDefault(t *testing.T) {
	want := Config{
		Host:         "127.0.0.1",
		Port:         3001,
		Path:         "/socket.io/",
		CORSOrigins:  nil,
		PingInterval: 25 * time.Second,
		PingTimeout:  20 * time.Second,
		MaxPayload:   1_000_000,
		AuthSecret:   "",
		AuthCookie:   "sockside_token",
		EmitSecret:   "",

		HooksTimeout:     5 * time.Second,
		HooksMaxInFlight: 256,

		RecoveryWindow: 2 * time.Minute,
		RateLimit:      100,
		DrainTimeout:   10 * time.Second,

		MaxJSONDepth:      32,
		MaxEventName:      256,
		MaxAttachments:    10,
		AttachmentTimeout: 30 * time.Second,
		ConnectTimeout:    20 * time.Second,
		SendBuffer:        8_000_000,
		BroadcastCoalesce: 10 * time.Millisecond,
		HandshakeRate:     20,
		TrustedProxies:    []string{"127.0.0.0/8", "::1"},
		ReadHeaderTimeout: 10 * time.Second,

		Demo:         false,
		FeedInterval: 3 * time.Second,
		RedisURL:     "",
		Adapter:      "",
		RedisPrefix:  "socket.io",
		LogLevel:     slog.LevelInfo,
	}
	got := Default()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Default() =\n%+v\nwant\n%+v", got, want)
	}
	if got.Addr() != "127.0.0.1:3001" {
		t.Errorf("Addr() = %q, want 127.0.0.1:3001", got.Addr())
	}
	if got.AllowsAnyOrigin() {
		t.Error("AllowsAnyOrigin() = true for the default (same-origin only)")
	}
	if w := got.Warnings(); len(w) != 0 {
		t.Errorf("Warnings() for the defaults = %q, want none", w)
	}
}

// Unset and empty variables both mean "use the default": an empty
// `SOCKET_PORT=` line in a .env file must not be an error.
func TestLoadEmptyMeansDefault(t *testing.T) {
	env := map[string]string{}
	for _, name := range envNames(t) {
		env[name] = "  "
	}
	got, err := Load(lookupFrom(env))
	if err != nil {
		t.Fatalf("Load with every variable blank: %v", err)
	}
	if !reflect.DeepEqual(got, Default()) {
		t.Errorf("blank variables gave\n%+v\nwant the defaults\n%+v", got, Default())
	}
}

func TestLoadParsesEveryVariable(t *testing.T) {
	tests := []struct {
		env   string
		value string
		check func(Config) bool
	}{
		{"SOCKET_HOST", "0.0.0.0", func(c Config) bool { return c.Host == "0.0.0.0" }},
		{"SOCKET_HOST", "::1", func(c Config) bool { return c.Addr() == "[::1]:3001" }},
		{"SOCKET_HOST", "fe80::1%eth0", func(c Config) bool { return c.Addr() == "[fe80::1%eth0]:3001" }},
		{"SOCKET_HOST", "localhost", func(c Config) bool { return c.Host == "localhost" }},
		{"SOCKET_HOST", "sockside-1.internal", func(c Config) bool { return c.Host == "sockside-1.internal" }},
		{"SOCKET_PORT", "4000", func(c Config) bool { return c.Port == 4000 }},
		{"SOCKET_PORT", "0", func(c Config) bool { return c.Port == 0 }}, // 0: pick a free port
		{"SOCKET_PATH", "/rt/", func(c Config) bool { return c.Path == "/rt/" }},
		{"SOCKET_CORS_ORIGINS", " https://a.example.com , http://localhost:3000,,", func(c Config) bool {
			return slices.Equal(c.CORSOrigins, []string{"https://a.example.com", "http://localhost:3000"})
		}},
		{"SOCKET_CORS_ORIGINS", "*", func(c Config) bool { return c.AllowsAnyOrigin() }},
		{"SOCKET_PING_INTERVAL", "300ms", func(c Config) bool { return c.PingInterval == 300*time.Millisecond }},
		{"SOCKET_PING_TIMEOUT", "1m", func(c Config) bool { return c.PingTimeout == time.Minute }},
		{"SOCKET_MAX_PAYLOAD", "2048", func(c Config) bool { return c.MaxPayload == 2048 }},
		{"SOCKET_AUTH_SECRET", "0123456789abcdef", func(c Config) bool { return c.AuthSecret == "0123456789abcdef" }},
		{"SOCKET_AUTH_COOKIE", "my_token", func(c Config) bool { return c.AuthCookie == "my_token" }},
		{"SOCKET_EMIT_SECRET", "emit-me-0123456789", func(c Config) bool { return c.EmitSecret == "emit-me-0123456789" }},
		{"SOCKET_RECOVERY_WINDOW", "0", func(c Config) bool { return c.RecoveryWindow == 0 }},
		{"SOCKET_RECOVERY_WINDOW", "90s", func(c Config) bool { return c.RecoveryWindow == 90*time.Second }},
		{"SOCKET_RATE_LIMIT", "0", func(c Config) bool { return c.RateLimit == 0 }},
		{"SOCKET_RATE_LIMIT", "2.5", func(c Config) bool { return c.RateLimit == 2.5 }},
		{"SOCKET_DRAIN_TIMEOUT", "3s", func(c Config) bool { return c.DrainTimeout == 3*time.Second }},
		{"SOCKET_MAX_JSON_DEPTH", "8", func(c Config) bool { return c.MaxJSONDepth == 8 }},
		{"SOCKET_MAX_EVENT_NAME", "64", func(c Config) bool { return c.MaxEventName == 64 }},
		{"SOCKET_MAX_ATTACHMENTS", "0", func(c Config) bool { return c.MaxAttachments == 0 }},
		{"SOCKET_ATTACHMENT_TIMEOUT", "2s", func(c Config) bool { return c.AttachmentTimeout == 2*time.Second }},
		{"SOCKET_CONNECT_TIMEOUT", "500ms", func(c Config) bool { return c.ConnectTimeout == 500*time.Millisecond }},
		{"SOCKET_SEND_BUFFER", "0", func(c Config) bool { return c.SendBuffer == 0 }},
		{"SOCKET_SEND_BUFFER", "1000000", func(c Config) bool { return c.SendBuffer == 1_000_000 }},
		{"SOCKET_BROADCAST_COALESCE", "0", func(c Config) bool { return c.BroadcastCoalesce == 0 }},
		{"SOCKET_HANDSHAKE_RATE", "0", func(c Config) bool { return c.HandshakeRate == 0 }},
		{"SOCKET_HANDSHAKE_RATE", "0.5", func(c Config) bool { return c.HandshakeRate == 0.5 }},
		{"SOCKET_TRUSTED_PROXIES", "none", func(c Config) bool {
			p, err := c.TrustedProxyPrefixes()
			return err == nil && len(p) == 0
		}},
		{"SOCKET_TRUSTED_PROXIES", "10.0.0.0/8, 192.168.1.7,::ffff:172.16.0.1", func(c Config) bool {
			p, err := c.TrustedProxyPrefixes()
			return err == nil && len(p) == 3 && p[0].String() == "10.0.0.0/8" && p[1].String() == "192.168.1.7/32" && p[2].String() == "172.16.0.1/32"
		}},
		{"SOCKET_READ_HEADER_TIMEOUT", "1s", func(c Config) bool { return c.ReadHeaderTimeout == time.Second }},
		{"SOCKET_HOOKS_URL", "http://127.0.0.1:3000/api/sockside", func(c Config) bool { return c.HooksURL == "http://127.0.0.1:3000/api/sockside" }},
		{"SOCKET_HOOKS_SECRET", "0123456789abcdef0123456789abcdef", func(c Config) bool { return c.HooksSecret == "0123456789abcdef0123456789abcdef" }},
		{"SOCKET_HOOKS_NAMESPACES", "/notes, /poll", func(c Config) bool { return slices.Equal(c.HooksNamespaces, []string{"/notes", "/poll"}) }},
		{"SOCKET_HOOKS_TIMEOUT", "250ms", func(c Config) bool { return c.HooksTimeout == 250*time.Millisecond }},
		{"SOCKET_HOOKS_MAX_IN_FLIGHT", "8", func(c Config) bool { return c.HooksMaxInFlight == 8 }},
		{"SOCKET_DEMO", "on", func(c Config) bool { return c.Demo }},
		{"SOCKET_DEMO", "TRUE", func(c Config) bool { return c.Demo }},
		{"SOCKET_DEMO", "off", func(c Config) bool { return !c.Demo }},
		{"FEED_INTERVAL", "250ms", func(c Config) bool { return c.FeedInterval == 250*time.Millisecond }},
		{"REDIS_URL", "redis://localhost:6379/0", func(c Config) bool { return c.RedisURL == "redis://localhost:6379/0" }},
		{"REDIS_URL", "rediss://user:pw@cache:6380", func(c Config) bool { return c.RedisURL == "rediss://user:pw@cache:6380" }},
		{"SOCKET_ADAPTER", "streams", func(c Config) bool { return c.Adapter == "streams" }},
		{"SOCKET_ADAPTER", "pubsub", func(c Config) bool { return c.Adapter == "pubsub" }},
		{"REDIS_PREFIX", "sockside", func(c Config) bool { return c.RedisPrefix == "sockside" }},
		{"LOG_LEVEL", "debug", func(c Config) bool { return c.LogLevel == slog.LevelDebug }},
		{"LOG_LEVEL", "WARN", func(c Config) bool { return c.LogLevel == slog.LevelWarn }},
		{"LOG_LEVEL", "error", func(c Config) bool { return c.LogLevel == slog.LevelError }},
	}
	// Settings that are valid only together with another one.
	requires := map[string]map[string]string{
		"SOCKET_HOOKS_URL": {"SOCKET_HOOKS_SECRET": strings.Repeat("s", 32)},
	}
	covered := map[string]bool{}
	for _, tt := range tests {
		covered[tt.env] = true
		t.Run(tt.env+"="+tt.value, func(t *testing.T) {
			vars := map[string]string{tt.env: tt.value}
			maps.Copy(vars, requires[tt.env])
			c, err := Load(lookupFrom(vars))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if !tt.check(c) {
				t.Errorf("%s=%q not applied: %+v", tt.env, tt.value, c)
			}
		})
	}
	// A new field must come with a parsing case here.
	for _, name := range envNames(t) {
		if !covered[name] {
			t.Errorf("no parsing case for %s", name)
		}
	}
}

func TestLoadRejectsInvalidValues(t *testing.T) {
	tests := []struct{ env, value string }{
		{"SOCKET_HOST", "localhost:3001"},
		{"SOCKET_HOST", "http://localhost"},
		{"SOCKET_HOST", "local host"},
		{"SOCKET_HOST", "[::1]"},
		{"SOCKET_PORT", "http"},
		{"SOCKET_PORT", "3001.5"},
		{"SOCKET_PORT", "-1"},
		{"SOCKET_PORT", "65536"},
		{"SOCKET_PATH", "socket.io"},
		{"SOCKET_PATH", "/socket.io"},
		{"SOCKET_PATH", "/"},
		{"SOCKET_PATH", "/a b/"},
		{"SOCKET_PATH", "/a?b/"},
		{"SOCKET_CORS_ORIGINS", "app.example.com"},
		{"SOCKET_CORS_ORIGINS", "https://app.example.com/path"},
		{"SOCKET_CORS_ORIGINS", "ftp://app.example.com"},
		{"SOCKET_CORS_ORIGINS", "https://ok.example.com,nope"},
		{"SOCKET_PING_INTERVAL", "25"},
		{"SOCKET_PING_INTERVAL", "0s"},
		{"SOCKET_PING_INTERVAL", "-1s"},
		{"SOCKET_PING_TIMEOUT", "soon"},
		{"SOCKET_PING_TIMEOUT", "0s"},
		{"SOCKET_MAX_PAYLOAD", "1e6"},
		{"SOCKET_MAX_PAYLOAD", "big"},
		{"SOCKET_MAX_PAYLOAD", "1023"},
		{"SOCKET_AUTH_SECRET", "tooweak"},
		{"SOCKET_AUTH_COOKIE", "a=b"},
		{"SOCKET_AUTH_COOKIE", "a;b"},
		{"SOCKET_AUTH_COOKIE", "a b"},
		{"SOCKET_RECOVERY_WINDOW", "2"},
		{"SOCKET_RECOVERY_WINDOW", "-1s"},
		{"SOCKET_RATE_LIMIT", "fast"},
		{"SOCKET_RATE_LIMIT", "-1"},
		{"SOCKET_RATE_LIMIT", "NaN"},
		{"SOCKET_RATE_LIMIT", "Inf"},
		{"SOCKET_DRAIN_TIMEOUT", "10"},
		{"SOCKET_DRAIN_TIMEOUT", "0s"},
		{"SOCKET_MAX_JSON_DEPTH", "1"},
		{"SOCKET_MAX_JSON_DEPTH", "deep"},
		{"SOCKET_MAX_JSON_DEPTH", "100000"},
		{"SOCKET_MAX_EVENT_NAME", "0"},
		{"SOCKET_MAX_ATTACHMENTS", "-1"},
		{"SOCKET_MAX_ATTACHMENTS", "1001"},
		{"SOCKET_ATTACHMENT_TIMEOUT", "0s"},
		{"SOCKET_ATTACHMENT_TIMEOUT", "30"},
		{"SOCKET_CONNECT_TIMEOUT", "0s"},
		{"SOCKET_CONNECT_TIMEOUT", "-1s"},
		{"SOCKET_SEND_BUFFER", "1024"}, // below SOCKET_MAX_PAYLOAD
		{"SOCKET_SEND_BUFFER", "8MB"},
		{"SOCKET_BROADCAST_COALESCE", "-1ms"},
		{"SOCKET_BROADCAST_COALESCE", "2s"},
		{"SOCKET_HANDSHAKE_RATE", "-1"},
		{"SOCKET_HANDSHAKE_RATE", "NaN"},
		{"SOCKET_TRUSTED_PROXIES", "proxy.internal"},
		{"SOCKET_TRUSTED_PROXIES", "10.0.0.0/33"},
		{"SOCKET_TRUSTED_PROXIES", "none,10.0.0.1"},
		{"SOCKET_READ_HEADER_TIMEOUT", "0s"},
		{"SOCKET_DEMO", "enabled"},
		{"FEED_INTERVAL", "3"},
		{"FEED_INTERVAL", "0s"},
		{"REDIS_URL", "localhost:6379"},
		{"REDIS_URL", "http://localhost:6379"},
		{"SOCKET_ADAPTER", "kafka"},
		{"SOCKET_ADAPTER", "Streams"},
		{"LOG_LEVEL", "verbose"},
		{"SOCKET_EMIT_SECRET", "short"},
		{"SOCKET_HOOKS_URL", "127.0.0.1:3000/api/sockside"},
		{"SOCKET_HOOKS_URL", "ftp://app/hooks"},
		{"SOCKET_HOOKS_URL", "http://app/hooks?x=1"},
		{"SOCKET_HOOKS_SECRET", "short"},
		{"SOCKET_HOOKS_NAMESPACES", "notes"},
		{"SOCKET_HOOKS_NAMESPACES", "/a,/b c"},
		{"SOCKET_HOOKS_TIMEOUT", "0s"},
		{"SOCKET_HOOKS_TIMEOUT", "5"},
		{"SOCKET_HOOKS_MAX_IN_FLIGHT", "0"},
		{"SOCKET_HOOKS_MAX_IN_FLIGHT", "many"},
	}
	// Variables where every value is acceptable, and why.
	freeForm := map[string]string{
		"REDIS_PREFIX": "any non-empty string is a prefix; empty means the default",
	}
	covered := map[string]bool{}
	for _, tt := range tests {
		covered[tt.env] = true
		t.Run(tt.env+"="+tt.value, func(t *testing.T) {
			c, err := Load(lookupFrom(map[string]string{tt.env: tt.value}))
			if err == nil {
				t.Fatalf("Load accepted %s=%q: %+v", tt.env, tt.value, c)
			}
			if !strings.Contains(err.Error(), tt.env) {
				t.Errorf("error does not name %s: %v", tt.env, err)
			}
			if !reflect.DeepEqual(c, Config{}) {
				t.Errorf("Load returned a partial config with its error: %+v", c)
			}
		})
	}
	for _, name := range envNames(t) {
		if !covered[name] && freeForm[name] == "" {
			t.Errorf("no invalid-value case for %s (or list it as free-form with a reason)", name)
		}
	}
}

// All bad variables of a kind are reported at once, so a broken deployment
// is fixed in one round rather than one variable per restart. Values that do
// not parse are reported first; range checks run once everything parses.
func TestLoadReportsEveryBadVariable(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
	}{
		{"unparsable", map[string]string{"SOCKET_PORT": "x", "SOCKET_PING_INTERVAL": "x", "LOG_LEVEL": "x"}},
		{"out of range", map[string]string{"SOCKET_PORT": "70000", "SOCKET_PATH": "nope", "REDIS_URL": "mysql://db"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(lookupFrom(tt.env))
			if err == nil {
				t.Fatalf("Load accepted %v", tt.env)
			}
			for name := range tt.env {
				if !strings.Contains(err.Error(), name) {
					t.Errorf("error does not name %s: %v", name, err)
				}
			}
		})
	}
}

// Start-up errors end up in logs; secrets must not.
func TestLoadErrorsDoNotEchoSecrets(t *testing.T) {
	_, err := Load(lookupFrom(map[string]string{"SOCKET_AUTH_SECRET": "hunter2hunter"}))
	if err == nil {
		t.Fatal("Load accepted a 13-byte auth secret")
	}
	if strings.Contains(err.Error(), "hunter2hunter") {
		t.Errorf("error echoes the secret: %v", err)
	}
}

func TestWarnings(t *testing.T) {
	tests := []struct {
		name     string
		interval time.Duration
		timeout  time.Duration
		want     []string // variables the warnings must name, in order
	}{
		{"defaults", 25 * time.Second, 20 * time.Second, nil},
		{"just under proxy timeout", ProxyTimeoutWarning - time.Millisecond, 20 * time.Second, nil},
		{"at proxy timeout", ProxyTimeoutWarning, 20 * time.Second, []string{"SOCKET_PING_INTERVAL"}},
		{"over proxy timeout", time.Minute, 20 * time.Second, []string{"SOCKET_PING_INTERVAL"}},
		{"timeout 4x interval", time.Second, 4 * time.Second, []string{"SOCKET_PING_TIMEOUT"}},
		{"both", 30 * time.Second, 2 * time.Minute, []string{"SOCKET_PING_INTERVAL", "SOCKET_PING_TIMEOUT"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			c.PingInterval, c.PingTimeout = tt.interval, tt.timeout
			got := c.Warnings()
			if len(got) != len(tt.want) {
				t.Fatalf("Warnings() = %q, want %d naming %v", got, len(tt.want), tt.want)
			}
			for i, name := range tt.want {
				if !strings.HasPrefix(got[i], name+"=") {
					t.Errorf("warning %d = %q, want it to start with %s=", i, got[i], name)
				}
			}
		})
	}
}

func TestAdapterMode(t *testing.T) {
	tests := []struct {
		name     string
		redis    string
		adapter  string
		recovery time.Duration
		want     string
	}{
		{"no Redis", "", "", 2 * time.Minute, ""},
		{"no Redis ignores SOCKET_ADAPTER", "", "pubsub", 2 * time.Minute, ""},
		{"recovery on defaults to streams", "redis://r:6379", "", 2 * time.Minute, "streams"},
		{"recovery off defaults to pubsub", "redis://r:6379", "", 0, "pubsub"},
		{"explicit pubsub with recovery", "redis://r:6379", "pubsub", 2 * time.Minute, "pubsub"},
		{"explicit streams without recovery", "redis://r:6379", "streams", 0, "streams"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			c.RedisURL, c.Adapter, c.RecoveryWindow = tt.redis, tt.adapter, tt.recovery
			if got := c.AdapterMode(); got != tt.want {
				t.Errorf("AdapterMode() = %q, want %q", got, tt.want)
			}
		})
	}
}

// writeFile writes content to name in a fresh temp dir and returns the path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestFromEnvironmentEnvWinsOverDotenv(t *testing.T) {
	clearEnv(t)
	dotenv := writeFile(t, ".env", strings.Join([]string{
		"# comments and export prefixes are godotenv syntax",
		"SOCKET_PORT=4001",
		"export SOCKET_PATH=/from-file/",
		`SOCKET_EMIT_SECRET="file secret 0123456789"`,
		"FEED_INTERVAL=1s",
	}, "\n"))
	t.Setenv("SOCKET_PORT", "5001")
	t.Setenv("SOCKET_EMIT_SECRET", "env-secret-0123456789")

	c, err := FromEnvironment(dotenv)
	if err != nil {
		t.Fatalf("FromEnvironment: %v", err)
	}
	if c.Port != 5001 {
		t.Errorf("Port = %d, want 5001 (env wins over .env)", c.Port)
	}
	if c.EmitSecret != "env-secret-0123456789" {
		t.Errorf("EmitSecret = %q, want env-secret-0123456789 (env wins over .env)", c.EmitSecret)
	}
	if c.Path != "/from-file/" {
		t.Errorf("Path = %q, want /from-file/ (from .env)", c.Path)
	}
	if c.FeedInterval != time.Second {
		t.Errorf("FeedInterval = %s, want 1s (from .env)", c.FeedInterval)
	}
	if c.Host != "127.0.0.1" {
		t.Errorf("Host = %q, want the default", c.Host)
	}
	// The file is read, never exported into the process.
	if v, ok := os.LookupEnv("FEED_INTERVAL"); ok {
		t.Errorf("FEED_INTERVAL=%q leaked into the process environment", v)
	}
}

func TestFromEnvironmentFirstFileWins(t *testing.T) {
	clearEnv(t)
	local := writeFile(t, ".env.local", "SOCKET_PORT=4100\n")
	shared := writeFile(t, ".env", "SOCKET_PORT=4200\nSOCKET_HOST=0.0.0.0\n")
	c, err := FromEnvironment(local, shared)
	if err != nil {
		t.Fatalf("FromEnvironment: %v", err)
	}
	if c.Port != 4100 || c.Host != "0.0.0.0" {
		t.Errorf("got port %d host %q, want 4100 (first file) and 0.0.0.0 (second file)", c.Port, c.Host)
	}
}

func TestFromEnvironmentMissingFileIsFine(t *testing.T) {
	clearEnv(t)
	c, err := FromEnvironment(filepath.Join(t.TempDir(), "no.env"))
	if err != nil {
		t.Fatalf("FromEnvironment with a missing .env: %v", err)
	}
	if !reflect.DeepEqual(c, Default()) {
		t.Errorf("got %+v, want the defaults", c)
	}
}

func TestFromEnvironmentErrors(t *testing.T) {
	clearEnv(t)
	t.Run("invalid value in .env names the variable", func(t *testing.T) {
		_, err := FromEnvironment(writeFile(t, ".env", "SOCKET_PING_INTERVAL=often\n"))
		if err == nil || !strings.Contains(err.Error(), "SOCKET_PING_INTERVAL") {
			t.Errorf("err = %v, want one naming SOCKET_PING_INTERVAL", err)
		}
	})
	t.Run("unreadable .env stops start-up", func(t *testing.T) {
		dir := t.TempDir() // a directory exists but cannot be read as a file
		_, err := FromEnvironment(dir)
		if err == nil || !strings.Contains(err.Error(), dir) {
			t.Errorf("err = %v, want one naming %s", err, dir)
		}
		if errors.Is(err, os.ErrNotExist) {
			t.Errorf("err = %v, must not look like a missing file", err)
		}
	})
}

func TestTableListsEveryVariable(t *testing.T) {
	table := Table()
	lines := strings.Split(strings.TrimSuffix(table, "\n"), "\n")
	names := envNames(t)
	if len(lines) != len(names)+2 {
		t.Fatalf("table has %d lines, want header, separator and %d rows:\n%s", len(lines), len(names), table)
	}
	typ := reflect.TypeFor[Config]()
	for i, name := range names {
		row := lines[i+2]
		if !strings.HasPrefix(row, "| `"+name+"` |") {
			t.Errorf("row %d = %q, want it to start with %s", i, row, name)
		}
		// A pipe in a doc would split the row into extra columns.
		if got := strings.Count(row, "|"); got != 4 {
			t.Errorf("row for %s has %d pipes, want 4: %q", name, got, row)
		}
		if typ.Field(i).Tag.Get("doc") == "" {
			t.Errorf("%s has no doc tag", name)
		}
	}
}

const (
	readmeBegin = "<!-- config-table:begin -->"
	readmeEnd   = "<!-- config-table:end -->"
)

// docs/configuration.md documents the configuration with the table Table() renders;
// this keeps them from drifting apart. Regenerate the block with
// fmt.Print(config.Table()) and paste it between the markers.
func TestConfigTableInSync(t *testing.T) {
	const path = "../docs/configuration.md"
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("%s does not exist yet", path)
	}
	if err != nil {
		t.Fatal(err)
	}
	block, err := markedBlock(strings.ReplaceAll(string(raw), "\r\n", "\n"), readmeBegin, readmeEnd)
	if err != nil {
		t.Fatalf("%s: %v; it must hold the configuration table between a line %s and a line %s", path, err, readmeBegin, readmeEnd)
	}
	want := strings.TrimSpace(Table())
	if block != want {
		t.Errorf("%s: the configuration table between %s and %s is out of date.\n--- the page has:\n%s\n--- config.Table() renders (paste this):\n%s",
			path, readmeBegin, readmeEnd, block, want)
	}
}

// markedBlock returns the trimmed text between the line equal to begin and
// the next line equal to end.
func markedBlock(text, begin, end string) (string, error) {
	lines := strings.Split(text, "\n")
	start := slices.IndexFunc(lines, func(l string) bool { return strings.TrimSpace(l) == begin })
	if start < 0 {
		return "", errors.New("no line " + begin)
	}
	n := slices.IndexFunc(lines[start+1:], func(l string) bool { return strings.TrimSpace(l) == end })
	if n < 0 {
		return "", errors.New("no line " + end + " after " + begin)
	}
	return strings.TrimSpace(strings.Join(lines[start+1:start+1+n], "\n")), nil
}

func TestMarkedBlock(t *testing.T) {
	tests := []struct {
		name, text, want string
		ok               bool
	}{
		{"block", "intro\n" + readmeBegin + "\n\n| a |\n| b |\n\n" + readmeEnd + "\nrest\n", "| a |\n| b |", true},
		{"empty block", readmeBegin + "\n" + readmeEnd + "\n", "", true},
		{"no begin", "| a |\n" + readmeEnd + "\n", "", false},
		{"no end", readmeBegin + "\n| a |\n", "", false},
		{"end before begin", readmeEnd + "\n" + readmeBegin + "\n| a |\n", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := markedBlock(tt.text, readmeBegin, readmeEnd)
			if (err == nil) != tt.ok || got != tt.want {
				t.Errorf("markedBlock = %q, %v; want %q, ok=%v", got, err, tt.want, tt.ok)
			}
		})
	}
}

func TestFromEnvironmentEmptyVariableDoesNotHideDotenv(t *testing.T) {
	clearEnv(t)
	dotenv := writeFile(t, ".env", "SOCKET_AUTH_SECRET=from-file-0123456789\n")
	t.Setenv("SOCKET_AUTH_SECRET", "") // as a compose file passes an unset variable
	c, err := FromEnvironment(dotenv)
	if err != nil {
		t.Fatal(err)
	}
	if c.AuthSecret != "from-file-0123456789" {
		t.Fatalf("AuthSecret = %q: an empty variable switched auth off", c.AuthSecret)
	}
}

// Hook requests are signed, so hooks without a secret do not start.
func TestHooksNeedTheirSecret(t *testing.T) {
	_, err := Load(lookupFrom(map[string]string{"SOCKET_HOOKS_URL": "http://127.0.0.1:3000/api/sockside"}))
	if err == nil || !strings.Contains(err.Error(), "SOCKET_HOOKS_SECRET: must be set with SOCKET_HOOKS_URL") {
		t.Fatalf("Load = %v, want the missing secret named", err)
	}
}
