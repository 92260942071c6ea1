package webchat

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"

	"switchboard/store"
)

// Tokens issues and checks customer tokens. A customer token is an HMAC of
// the conversation id under the server's secret, so it opens exactly one
// conversation and needs no storage, on any instance that shares the
// secret.
type Tokens struct {
	secret []byte
}

// NewTokens takes the server secret (at least 32 bytes).
func NewTokens(secret []byte) (*Tokens, error) {
	if len(secret) < 32 {
		return nil, fmt.Errorf("webchat: secret has %d bytes, want at least 32", len(secret))
	}
	return &Tokens{secret: secret}, nil
}

// Customer returns the token of conversation id.
func (t *Tokens) Customer(id store.ConversationID) string {
	m := hmac.New(sha256.New, t.secret)
	m.Write([]byte(id))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// CustomerOK says whether tok opens conversation id.
func (t *Tokens) CustomerOK(id store.ConversationID, tok string) bool {
	return hmac.Equal([]byte(t.Customer(id)), []byte(tok))
}

func bearer(h string) string {
	if tok, ok := strings.CutPrefix(h, "Bearer "); ok {
		return strings.TrimSpace(tok)
	}
	return ""
}
