package auth

import (
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const (
	testSecret = "0123456789abcdef0123456789abcdef"
	testCookie = "sockside_token"
)

// signWith signs claims with method and key, for tokens Sign cannot make.
func signWith(t *testing.T, method jwt.SigningMethod, key any, claims jwt.Claims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatalf("signing %s token: %v", method.Alg(), err)
	}
	return s
}

// validClaims expire an hour from now.
func validClaims(sub, name string) Claims {
	now := time.Now()
	return Claims{
		Name: name,
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   sub,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)),
		},
	}
}

func TestVerifyValid(t *testing.T) {
	tests := []struct {
		name        string
		user        User
		want        User
		wantDisplay string
	}{
		{"sub and name", User{ID: "u1", Name: "Ada"}, User{ID: "u1", Name: "Ada"}, "Ada"},
		{"sub only", User{ID: "u2"}, User{ID: "u2"}, "u2"},
		{"name only", User{Name: "Grace"}, User{ID: "Grace", Name: "Grace"}, "Grace"},
	}
	v := NewVerifier(testSecret, testCookie)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := Sign(testSecret, tt.user, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			got, err := v.Verify(tok)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if got != tt.want {
				t.Errorf("Verify = %+v, want %+v", got, tt.want)
			}
			if got.Display() != tt.wantDisplay {
				t.Errorf("Display() = %q, want %q", got.Display(), tt.wantDisplay)
			}
		})
	}
}

func TestVerifyRefuses(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	expired, err := Sign(testSecret, User{ID: "u1"}, -time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	otherSecret, err := Sign("another-secret-of-32-bytes-long!", User{ID: "u1"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	notYet := validClaims("u1", "")
	notYet.NotBefore = jwt.NewNumericDate(time.Now().Add(time.Hour))

	tests := []struct {
		name  string
		token string
		want  error
	}{
		{"missing", "", ErrMissingToken},
		{"garbage", "not.a.jwt", ErrInvalidToken},
		{"expired", expired, ErrExpiredToken},
		{"wrong secret", otherSecret, ErrInvalidToken},
		{"not yet valid", signWith(t, jwt.SigningMethodHS256, []byte(testSecret), notYet), ErrInvalidToken},
		{"neither sub nor name", signWith(t, jwt.SigningMethodHS256, []byte(testSecret), validClaims("", "")), ErrNoSubject},
		// The method is pinned to HS256: none of these may pass, whatever key
		// the verifier would hand them.
		{"alg none", signWith(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, validClaims("u1", "")), ErrInvalidToken},
		{"RS256", signWith(t, jwt.SigningMethodRS256, rsaKey, validClaims("u1", "")), ErrInvalidToken},
		{"HS512 with the right secret", signWith(t, jwt.SigningMethodHS512, []byte(testSecret), validClaims("u1", "")), ErrInvalidToken},
		{"HS384 with the right secret", signWith(t, jwt.SigningMethodHS384, []byte(testSecret), validClaims("u1", "")), ErrInvalidToken},
	}
	v := NewVerifier(testSecret, testCookie)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := v.Verify(tt.token)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify err = %v, want %v", err, tt.want)
			}
			if got != (User{}) {
				t.Errorf("Verify returned user %+v with its error", got)
			}
		})
	}
}

// Clocks of the issuer and this server may differ by a few seconds; a token
// that expired just now is still accepted within the 5 s leeway.
func TestVerifyLeeway(t *testing.T) {
	tok, err := Sign(testSecret, User{ID: "u1"}, -time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewVerifier(testSecret, testCookie).Verify(tok); err != nil {
		t.Errorf("token expired 1 s ago refused: %v", err)
	}
}

func TestFromHandshake(t *testing.T) {
	cookies := func(pairs ...string) http.Header {
		h := http.Header{}
		for i := 0; i < len(pairs); i += 2 {
			h.Add("Cookie", pairs[i]+"="+pairs[i+1])
		}
		return h
	}
	tests := []struct {
		name   string
		cookie string // the verifier's configured cookie name
		auth   map[string]any
		header http.Header
		want   string
	}{
		{"auth.token only", testCookie, map[string]any{"token": "A"}, http.Header{}, "A"},
		{"auth.token preferred over cookie", testCookie, map[string]any{"token": "A"}, cookies(testCookie, "C"), "A"},
		{"cookie fallback without auth", testCookie, nil, cookies(testCookie, "C"), "C"},
		{"cookie fallback with empty auth.token", testCookie, map[string]any{"token": ""}, cookies(testCookie, "C"), "C"},
		{"cookie fallback with non-string auth.token", testCookie, map[string]any{"token": 42}, cookies(testCookie, "C"), "C"},
		{"cookie among others", testCookie, nil, cookies("theme", "dark", testCookie, "C", "x", "y"), "C"},
		{"configured cookie name", "my_jwt", nil, cookies(testCookie, "default", "my_jwt", "custom"), "custom"},
		{"other cookie name ignored", "my_jwt", nil, cookies(testCookie, "default"), ""},
		{"nothing", testCookie, map[string]any{}, http.Header{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := NewVerifier(testSecret, tt.cookie)
			if got := v.FromHandshake(tt.auth, tt.header); got != tt.want {
				t.Errorf("FromHandshake = %q, want %q", got, tt.want)
			}
		})
	}
}

// The cookie path end to end: a token set by the Next app as a cookie
// verifies.
func TestCookieTokenVerifies(t *testing.T) {
	tok, err := Sign(testSecret, User{ID: "u9", Name: "Lin"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	v := NewVerifier(testSecret, testCookie)
	h := http.Header{}
	h.Add("Cookie", (&http.Cookie{Name: testCookie, Value: tok}).String())
	got, err := v.Verify(v.FromHandshake(nil, h))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if got != (User{ID: "u9", Name: "Lin"}) {
		t.Errorf("user = %+v", got)
	}
}
