package config

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/joho/godotenv"
)

// FuzzLoad parses arbitrary .env text (godotenv, as FromEnvironment reads
// it) and loads the configuration from it. No panic; an error names a
// variable; an accepted configuration satisfies the invariants the server
// relies on and loads again to the same value.
func FuzzLoad(f *testing.F) {
	for _, s := range []string{
		"",
		"SOCKET_PORT=0\nSOCKET_HOST=0.0.0.0\n",
		"SOCKET_CORS_ORIGINS=https://a.example.com, http://localhost:3000\nSOCKET_PING_INTERVAL=300ms\n",
		"SOCKET_MAX_PAYLOAD=2048\nSOCKET_SEND_BUFFER=0\nSOCKET_MAX_JSON_DEPTH=4\n",
		"SOCKET_TRUSTED_PROXIES=none\nSOCKET_HANDSHAKE_RATE=0.5\n",
		"SOCKET_TRUSTED_PROXIES=10.0.0.0/8,::1,::ffff:1.2.3.4\n",
		"REDIS_URL=redis://localhost:6379/0\nSOCKET_ADAPTER=pubsub\n",
		"export SOCKET_AUTH_SECRET='0123456789abcdef'\n# comment\nLOG_LEVEL=debug",
		"SOCKET_RATE_LIMIT=NaN\nSOCKET_PORT=99999\nSOCKET_PATH=/x",
		`SOCKET_PATH="/rt/"` + "\nFEED_INTERVAL=-1s\nSOCKET_MAX_ATTACHMENTS=1001",
		"SOCKET_HOST=[::1]\nSOCKET_TRUSTED_PROXIES=10.0.0.0/33",
		"SOCKET_PING_INTERVAL=9223372036854775807ns\nSOCKET_CONNECT_TIMEOUT=1e9h",
	} {
		f.Add(s)
	}
	names := envNames(&testing.T{})
	f.Fuzz(func(t *testing.T, dotenv string) {
		vars, err := godotenv.Unmarshal(dotenv)
		if err != nil {
			return
		}
		lookup := func(name string) (string, bool) { v, ok := vars[name]; return v, ok }
		c, err := Load(lookup)
		if err != nil {
			if !slices.ContainsFunc(names, func(n string) bool { return strings.Contains(err.Error(), n) }) {
				t.Fatalf("error names no variable: %v", err)
			}
			if !reflect.DeepEqual(c, Config{}) {
				t.Fatalf("partial config returned with an error: %+v", c)
			}
			return
		}
		switch {
		case c.Port < 0 || c.Port > 65535,
			c.PingInterval <= 0 || c.PingTimeout <= 0 || c.DrainTimeout <= 0 || c.FeedInterval <= 0,
			c.MaxPayload < 1024,
			c.RateLimit < 0 || c.RateLimit != c.RateLimit,
			c.HandshakeRate < 0 || c.HandshakeRate != c.HandshakeRate,
			c.MaxJSONDepth < 2 || c.MaxEventName < 1 || c.MaxAttachments < 0,
			c.AttachmentTimeout <= 0 || c.ConnectTimeout <= 0 || c.ReadHeaderTimeout <= 0,
			c.SendBuffer != 0 && c.SendBuffer < c.MaxPayload,
			!strings.HasPrefix(c.Path, "/") || !strings.HasSuffix(c.Path, "/"):
			t.Fatalf("accepted an unusable configuration: %+v", c)
		}
		if _, err := c.TrustedProxyPrefixes(); err != nil {
			t.Fatalf("accepted SOCKET_TRUSTED_PROXIES that does not parse: %v", err)
		}
		again, err := Load(lookup)
		if err != nil || !reflect.DeepEqual(again, c) {
			t.Fatalf("loading again: %+v, %v", again, err)
		}
	})
}
