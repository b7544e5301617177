// Package config holds the server's typed configuration: one struct, its
// defaults and documentation in one place (the `env`, `default` and `doc`
// tags), loaded from the environment and an optional .env file.
//
// The configuration table of docs/configuration.md is generated from the same tags
// (see Table) and a test keeps the two in sync.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"net"
	"net/netip"
	"net/url"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/joho/godotenv"
)

// Config is everything the server reads at start-up. Field tags:
//   - env: the variable name;
//   - default: the value used when the variable is unset or empty;
//   - doc: the user-facing description rendered into docs/configuration.md.
type Config struct {
	Host string `env:"SOCKET_HOST" default:"127.0.0.1" doc:"Interface to listen on."`
	Port int    `env:"SOCKET_PORT" default:"3001" doc:"Port to listen on (the side port Next rewrites to); 0 picks a free one and logs it."`
	Path string `env:"SOCKET_PATH" default:"/socket.io/" doc:"Socket.IO mount path; must start and end with /."`

	CORSOrigins []string `env:"SOCKET_CORS_ORIGINS" default:"" doc:"Comma-separated origins allowed cross-origin (with credentials). Empty: same-origin only (judged by X-Forwarded-Host, then Host). * allows any origin without credentials."`

	PingInterval time.Duration `env:"SOCKET_PING_INTERVAL" default:"25s" doc:"Engine.IO ping interval. Warned about at >= 30s: Next's rewrite proxy cuts held requests at 30s."`
	PingTimeout  time.Duration `env:"SOCKET_PING_TIMEOUT" default:"20s" doc:"How long to wait for a pong before closing the connection."`
	MaxPayload   int64         `env:"SOCKET_MAX_PAYLOAD" default:"1000000" doc:"Largest message (bytes) a client may send; larger closes that connection only."`

	AuthSecret string `env:"SOCKET_AUTH_SECRET" default:"" doc:"HS256 secret for handshake JWTs. Empty: anonymous clients allowed."`
	AuthCookie string `env:"SOCKET_AUTH_COOKIE" default:"sockside_token" doc:"Cookie carrying the JWT when the client comes through Next same-origin."`
	EmitSecret string `env:"SOCKET_EMIT_SECRET" default:"" doc:"Bearer secret for POST /api/emit. Empty: the emit API is off (404)."`

	HooksURL         string        `env:"SOCKET_HOOKS_URL" default:"" doc:"Base URL of the app's hook route handlers as the server reaches them (e.g. http://127.0.0.1:3000/api/sockside); connect, event and disconnect are POSTed below it. Empty: no hooks (docs/hooks.md)."`
	HooksSecret      string        `env:"SOCKET_HOOKS_SECRET" default:"" doc:"Shared secret that signs every hook request (HMAC-SHA256, at least 32 bytes); required with SOCKET_HOOKS_URL."`
	HooksNamespaces  []string      `env:"SOCKET_HOOKS_NAMESPACES" default:"" doc:"Comma-separated namespaces served by the hooks. Empty: every namespace no Go code registers."`
	HooksTimeout     time.Duration `env:"SOCKET_HOOKS_TIMEOUT" default:"5s" doc:"Longest wait for a hook's answer; then the client gets connect_error or the ack {ok:false, error:\"hooks unavailable\"}."`
	HooksMaxInFlight int           `env:"SOCKET_HOOKS_MAX_IN_FLIGHT" default:"256" doc:"Hook requests in flight at once on this node; beyond it events are answered \"hooks unavailable\" at once instead of queueing."`

	RecoveryWindow time.Duration `env:"SOCKET_RECOVERY_WINDOW" default:"2m" doc:"Connection state recovery window. 0 turns recovery off."`
	RateLimit      float64       `env:"SOCKET_RATE_LIMIT" default:"100" doc:"Events per second per socket (burst 2x). 0 turns the limit off."`
	DrainTimeout   time.Duration `env:"SOCKET_DRAIN_TIMEOUT" default:"10s" doc:"Longest graceful drain on SIGTERM/SIGINT before the process exits."`

	MaxJSONDepth      int           `env:"SOCKET_MAX_JSON_DEPTH" default:"32" doc:"Deepest JSON nesting in a client's event arguments (the argument array counts as 1). Deeper: the event is refused ({ok:false, error} ack); a deeper CONNECT or ack payload closes the connection."`
	MaxEventName      int           `env:"SOCKET_MAX_EVENT_NAME" default:"256" doc:"Longest event name (bytes) a client may send; longer: the event is refused with an error ack."`
	MaxAttachments    int           `env:"SOCKET_MAX_ATTACHMENTS" default:"10" doc:"Binary attachments per Socket.IO packet; more closes the connection. Their total size counts against SOCKET_MAX_PAYLOAD."`
	AttachmentTimeout time.Duration `env:"SOCKET_ATTACHMENT_TIMEOUT" default:"30s" doc:"Longest wait for the binary attachments a packet announced; then the connection is closed."`
	ConnectTimeout    time.Duration `env:"SOCKET_CONNECT_TIMEOUT" default:"20s" doc:"How long a new connection may go without joining a namespace (its CONNECT packet) before it is closed."`
	SendBuffer        int64         `env:"SOCKET_SEND_BUFFER" default:"8000000" doc:"Bytes queued for one websocket client before it is cut off as a slow consumer (close reason transport error, counted as slow_consumer). 0 turns the bound off; else at least SOCKET_MAX_PAYLOAD."`
	BroadcastCoalesce time.Duration `env:"SOCKET_BROADCAST_COALESCE" default:"10ms" doc:"Above 0, the broadcast frames a busy websocket client gets in a burst wait for the server's next write to it and share it (never longer than one write round, well under this bound); acks and direct events never wait. 0: write every frame at once."`
	HandshakeRate     float64       `env:"SOCKET_HANDSHAKE_RATE" default:"20" doc:"New connections per second per client address (burst 2x); over it 429 {code:429, message:\"too many handshakes\"}. 0 turns the limit off."`
	TrustedProxies    []string      `env:"SOCKET_TRUSTED_PROXIES" default:"127.0.0.0/8,::1" doc:"Comma-separated IPs or CIDRs of proxies whose X-Forwarded-For names the client for SOCKET_HANDSHAKE_RATE; a request from one without X-Forwarded-For is not limited (Next's rewrite sends none). none: trust no peer."`
	ReadHeaderTimeout time.Duration `env:"SOCKET_READ_HEADER_TIMEOUT" default:"10s" doc:"Longest time a client may take to send a request's headers (slowloris guard); then the TCP connection is closed."`

	Demo         bool          `env:"SOCKET_DEMO" default:"off" doc:"on: serve the demo namespaces (/ echo, /chat, /feed) and /ws. off: no namespace of the server's own; applications register theirs. make dev and the demo app turn it on."`
	FeedInterval time.Duration `env:"FEED_INTERVAL" default:"3s" doc:"Period of the demo's /feed order push."`
	RedisURL     string        `env:"REDIS_URL" default:"" doc:"Redis for multi-node scale-out. Empty: single node, in memory."`
	Adapter      string        `env:"SOCKET_ADAPTER" default:"" doc:"With REDIS_URL: streams or pubsub. Empty: streams when recovery is on (only streams persists sessions across nodes), else pubsub."`
	RedisPrefix  string        `env:"REDIS_PREFIX" default:"socket.io" doc:"Key and channel prefix shared with Node's @socket.io adapters and emitter."`
	LogLevel     slog.Level    `env:"LOG_LEVEL" default:"info" doc:"debug, info, warn or error."`
}

// Addr is the host:port the server listens on.
func (c Config) Addr() string {
	return net.JoinHostPort(c.Host, strconv.Itoa(c.Port))
}

// ProxyTimeoutWarning is the ping interval at which Next's rewrite proxy
// (experimental.proxyTimeout, 30 s by default) starts cutting held long-polls.
const ProxyTimeoutWarning = 30 * time.Second

// Default returns the configuration with every default applied.
func Default() Config {
	c, err := Load(func(string) (string, bool) { return "", false })
	if err != nil {
		panic("config: defaults do not parse: " + err.Error())
	}
	return c
}

// Load reads every field from lookup (usually os.LookupEnv), applying
// defaults for unset or empty variables, then validates the result. The
// error names the offending variable.
func Load(lookup func(string) (string, bool)) (Config, error) {
	var c Config
	v := reflect.ValueOf(&c).Elem()
	t := v.Type()
	var errs []error
	for i := range t.NumField() {
		f := t.Field(i)
		name := f.Tag.Get("env")
		raw, ok := lookup(name)
		raw = strings.TrimSpace(raw)
		if !ok || raw == "" {
			raw = f.Tag.Get("default")
		}
		if err := setField(v.Field(i), raw); err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: %w", name, raw, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	return c, nil
}

// switches are the spellings a boolean setting accepts.
var switches = map[string]bool{"on": true, "off": false, "true": true, "false": false, "1": true, "0": false, "yes": true, "no": false}

var (
	durationType = reflect.TypeFor[time.Duration]()
	levelType    = reflect.TypeFor[slog.Level]()
)

func setField(f reflect.Value, raw string) error {
	switch {
	case f.Type() == durationType:
		d, err := time.ParseDuration(raw)
		if err != nil {
			return errors.New("not a duration (e.g. 25s, 500ms)")
		}
		f.SetInt(int64(d))
	case f.Type() == levelType:
		var l slog.Level
		if err := l.UnmarshalText([]byte(raw)); err != nil {
			return errors.New("not a log level (debug, info, warn, error)")
		}
		f.SetInt(int64(l))
	case f.Kind() == reflect.Bool:
		on, ok := switches[strings.ToLower(raw)]
		if !ok {
			return errors.New("not on or off")
		}
		f.SetBool(on)
	case f.Kind() == reflect.String:
		f.SetString(raw)
	case f.Kind() == reflect.Int || f.Kind() == reflect.Int64:
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return errors.New("not an integer")
		}
		f.SetInt(n)
	case f.Kind() == reflect.Float64:
		n, err := strconv.ParseFloat(raw, 64)
		if err != nil {
			return errors.New("not a number")
		}
		f.SetFloat(n)
	case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.String:
		var items []string
		for item := range strings.SplitSeq(raw, ",") {
			if item = strings.TrimSpace(item); item != "" {
				items = append(items, item)
			}
		}
		f.Set(reflect.ValueOf(items))
	default:
		return fmt.Errorf("unsupported field type %s", f.Type())
	}
	return nil
}

// Validate reports every setting of c that is out of range, each error
// naming its variable. Load and FromEnvironment return validated
// configurations; a Config built or changed in code may not be one.
func (c Config) Validate() error {
	var errs []error
	bad := func(env, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", env, fmt.Sprintf(format, a...)))
	}
	if !validHost(c.Host) {
		bad("SOCKET_HOST", "%q is not a host name or IP address (no scheme, port or brackets)", c.Host)
	}
	if c.Port < 0 || c.Port > 65535 {
		bad("SOCKET_PORT", "%d is not a port (0-65535)", c.Port)
	}
	if !strings.HasPrefix(c.Path, "/") || !strings.HasSuffix(c.Path, "/") || len(c.Path) < 3 || strings.ContainsAny(c.Path, "?#* ") {
		bad("SOCKET_PATH", "%q must look like /name/ (leading and trailing slash)", c.Path)
	}
	for _, o := range c.CORSOrigins {
		if o == "*" {
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			bad("SOCKET_CORS_ORIGINS", "%q is not an origin like https://app.example.com", o)
		}
	}
	if c.PingInterval <= 0 {
		bad("SOCKET_PING_INTERVAL", "must be positive")
	}
	if c.PingTimeout <= 0 {
		bad("SOCKET_PING_TIMEOUT", "must be positive")
	}
	if c.MaxPayload < 1024 {
		bad("SOCKET_MAX_PAYLOAD", "%d is too small (minimum 1024 bytes)", c.MaxPayload)
	}
	if c.AuthCookie == "" || strings.ContainsAny(c.AuthCookie, "=;, \t") {
		bad("SOCKET_AUTH_COOKIE", "%q is not a cookie name", c.AuthCookie)
	}
	if c.AuthSecret != "" && len(c.AuthSecret) < 16 {
		bad("SOCKET_AUTH_SECRET", "too short (at least 16 bytes for HS256)")
	}
	if c.EmitSecret != "" && len(c.EmitSecret) < 16 {
		bad("SOCKET_EMIT_SECRET", "too short (at least 16 bytes)")
	}
	if c.HooksURL != "" {
		if u, err := url.Parse(c.HooksURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			bad("SOCKET_HOOKS_URL", "%q is not a base URL like http://127.0.0.1:3000/api/sockside", c.HooksURL)
		}
		if c.HooksSecret == "" {
			bad("SOCKET_HOOKS_SECRET", "must be set with SOCKET_HOOKS_URL (hook requests are signed)")
		}
	}
	if c.HooksSecret != "" && len(c.HooksSecret) < 32 {
		bad("SOCKET_HOOKS_SECRET", "too short (at least 32 bytes)")
	}
	for _, ns := range c.HooksNamespaces {
		if !strings.HasPrefix(ns, "/") || strings.ContainsAny(ns, ", ?#") {
			bad("SOCKET_HOOKS_NAMESPACES", "%q is not a namespace like /notes", ns)
		}
	}
	if c.HooksTimeout <= 0 {
		bad("SOCKET_HOOKS_TIMEOUT", "must be positive")
	}
	if c.HooksMaxInFlight < 1 {
		bad("SOCKET_HOOKS_MAX_IN_FLIGHT", "must be at least 1")
	}
	if c.RecoveryWindow < 0 {
		bad("SOCKET_RECOVERY_WINDOW", "must not be negative")
	}
	if c.RateLimit < 0 || math.IsNaN(c.RateLimit) || math.IsInf(c.RateLimit, 0) {
		bad("SOCKET_RATE_LIMIT", "must be a finite number >= 0")
	}
	if c.DrainTimeout <= 0 {
		bad("SOCKET_DRAIN_TIMEOUT", "must be positive")
	}
	if c.MaxJSONDepth < 2 || c.MaxJSONDepth > 1000 {
		bad("SOCKET_MAX_JSON_DEPTH", "%d is out of range (2-1000)", c.MaxJSONDepth)
	}
	if c.MaxEventName < 1 {
		bad("SOCKET_MAX_EVENT_NAME", "must be at least 1")
	}
	if c.MaxAttachments < 0 || c.MaxAttachments > 1000 {
		bad("SOCKET_MAX_ATTACHMENTS", "%d is out of range (0-1000)", c.MaxAttachments)
	}
	if c.AttachmentTimeout <= 0 {
		bad("SOCKET_ATTACHMENT_TIMEOUT", "must be positive")
	}
	if c.ConnectTimeout <= 0 {
		bad("SOCKET_CONNECT_TIMEOUT", "must be positive")
	}
	if c.SendBuffer != 0 && c.SendBuffer < c.MaxPayload {
		bad("SOCKET_SEND_BUFFER", "%d is below SOCKET_MAX_PAYLOAD (%d); 0 turns the bound off", c.SendBuffer, c.MaxPayload)
	}
	if c.BroadcastCoalesce < 0 || c.BroadcastCoalesce > time.Second {
		bad("SOCKET_BROADCAST_COALESCE", "must be between 0 and 1s")
	}
	if c.HandshakeRate < 0 || math.IsNaN(c.HandshakeRate) || math.IsInf(c.HandshakeRate, 0) {
		bad("SOCKET_HANDSHAKE_RATE", "must be a finite number >= 0")
	}
	if _, err := c.TrustedProxyPrefixes(); err != nil {
		bad("SOCKET_TRUSTED_PROXIES", "%v", err)
	}
	if c.ReadHeaderTimeout <= 0 {
		bad("SOCKET_READ_HEADER_TIMEOUT", "must be positive")
	}
	if c.FeedInterval <= 0 {
		bad("FEED_INTERVAL", "must be positive")
	}
	if c.RedisURL != "" {
		if u, err := url.Parse(c.RedisURL); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") {
			bad("REDIS_URL", "must be a redis:// or rediss:// URL")
		}
	}
	switch c.Adapter {
	case "", "streams", "pubsub":
	default:
		bad("SOCKET_ADAPTER", "%q is not streams or pubsub", c.Adapter)
	}
	return errors.Join(errs...)
}

// AdapterMode is the Redis adapter in effect: "" without Redis, else
// SOCKET_ADAPTER or its default.
func (c Config) AdapterMode() string {
	switch {
	case c.RedisURL == "":
		return ""
	case c.Adapter != "":
		return c.Adapter
	case c.RecoveryWindow > 0:
		return "streams"
	default:
		return "pubsub"
	}
}

// Warnings lists settings that are valid but likely wrong for a deployment
// behind Next's rewrite proxy.
func (c Config) Warnings() []string {
	var w []string
	if c.PingInterval >= ProxyTimeoutWarning {
		w = append(w, fmt.Sprintf("SOCKET_PING_INTERVAL=%s: Next's rewrite proxy cuts held long-polls at 30s (experimental.proxyTimeout); polling clients through Next will see errors", c.PingInterval))
	}
	if c.PingTimeout >= c.PingInterval*4 {
		w = append(w, fmt.Sprintf("SOCKET_PING_TIMEOUT=%s is much longer than the ping interval; dead peers are noticed late", c.PingTimeout))
	}
	return w
}

// AllowsAnyOrigin reports whether SOCKET_CORS_ORIGINS contains "*".
func (c Config) AllowsAnyOrigin() bool {
	for _, o := range c.CORSOrigins {
		if o == "*" {
			return true
		}
	}
	return false
}

// Table renders the configuration as a Markdown table for docs/configuration.md.
func Table() string {
	var b strings.Builder
	b.WriteString("| variable | default | meaning |\n|---|---|---|\n")
	t := reflect.TypeFor[Config]()
	for i := range t.NumField() {
		f := t.Field(i)
		def := f.Tag.Get("default")
		if def == "" {
			def = "(empty)"
		}
		fmt.Fprintf(&b, "| `%s` | `%s` | %s |\n", f.Tag.Get("env"), def, f.Tag.Get("doc"))
	}
	return b.String()
}

// validHost accepts an IP address or a host name, nothing with a scheme,
// port or brackets (those belong in other variables or nowhere).
func validHost(h string) bool {
	if _, err := netip.ParseAddr(h); err == nil {
		return true
	}
	if h == "" || len(h) > 253 {
		return false
	}
	for _, r := range h {
		if r != '.' && r != '-' && r != '_' && (r < '0' || r > '9') && (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') {
			return false
		}
	}
	return true
}

// FromEnvironment loads the configuration from the process environment and,
// when present, the given .env files (godotenv syntax). The environment wins
// over the files, and the files are read, never exported into the process.
func FromEnvironment(dotenvFiles ...string) (Config, error) {
	fileVars := map[string]string{}
	for _, name := range dotenvFiles {
		vars, err := godotenv.Read(name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return Config{}, fmt.Errorf("config: reading %s: %w", name, err)
		}
		for k, v := range vars {
			if _, seen := fileVars[k]; !seen {
				fileVars[k] = v
			}
		}
	}
	return Load(func(name string) (string, bool) {
		// A variable set but empty (as compose files often pass them) does
		// not hide the .env value.
		if v, ok := os.LookupEnv(name); ok && strings.TrimSpace(v) != "" {
			return v, true
		}
		v, ok := fileVars[name]
		return v, ok
	})
}
