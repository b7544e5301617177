// Package auth verifies the HS256 JWTs that clients present in the Socket.IO
// handshake, either as auth.token or in a cookie (sent automatically when the
// page reaches the server same-origin through Next's rewrite).
package auth

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// User is the identity a verified token grants to a socket.
type User struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Display is how the user appears in chat: the name, else the subject.
func (u User) Display() string {
	if u.Name != "" {
		return u.Name
	}
	return u.ID
}

// Claims are the registered JWT claims plus the display name.
type Claims struct {
	Name string `json:"name,omitempty"`
	jwt.RegisteredClaims
}

// Errors returned by Verify; their text is the reason sent to the client in
// connect_error's data.
var (
	ErrMissingToken = errors.New("missing token")
	ErrInvalidToken = errors.New("invalid token")
	ErrExpiredToken = errors.New("token expired")
	ErrNoSubject    = errors.New("token has neither sub nor name")
)

// Verifier checks tokens against one shared secret.
type Verifier struct {
	secret []byte
	cookie string
	parser *jwt.Parser
}

// NewVerifier returns a verifier for secret that also looks for tokens in the
// named cookie.
func NewVerifier(secret, cookie string) *Verifier {
	return &Verifier{
		secret: []byte(secret),
		cookie: cookie,
		// Pinning the method stops alg=none and RS/HS confusion attacks.
		// A token without exp would be valid forever.
		parser: jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}), jwt.WithLeeway(5*time.Second), jwt.WithExpirationRequired()),
	}
}

// Verify parses and validates a token.
func (v *Verifier) Verify(token string) (User, error) {
	if token == "" {
		return User{}, ErrMissingToken
	}
	var c Claims
	_, err := v.parser.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return v.secret, nil })
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return User{}, ErrExpiredToken
	case err != nil:
		return User{}, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	if c.Subject == "" && c.Name == "" {
		return User{}, ErrNoSubject
	}
	id := c.Subject
	if id == "" {
		id = c.Name
	}
	return User{ID: id, Name: c.Name}, nil
}

// FromHandshake finds the token: auth.token wins over the cookie.
func (v *Verifier) FromHandshake(auth map[string]any, header http.Header) string {
	if t, ok := auth["token"].(string); ok && t != "" {
		return t
	}
	r := http.Request{Header: header}
	if c, err := r.Cookie(v.cookie); err == nil {
		return c.Value
	}
	return ""
}

// Sign issues a token for user valid for ttl. The demo app's sign-in route
// and the tests use it; production deployments may issue tokens elsewhere
// with the same secret.
func Sign(secret string, u User, ttl time.Duration) (string, error) {
	now := time.Now()
	c := Claims{
		Name: u.Name,
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   u.ID,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		},
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString([]byte(secret))
	if err != nil {
		return "", fmt.Errorf("auth: signing token: %w", err)
	}
	return s, nil
}
