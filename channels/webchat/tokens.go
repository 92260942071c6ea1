package webchat

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"

	"switchboard/store"
)

// Tokens issues and checks customer tokens and knows the agents. A customer
// token is an HMAC of the conversation id under the server's secret, so it
// opens exactly one conversation and needs no storage.
type Tokens struct {
	secret []byte
	agents map[string]string // token -> agent name
}

// NewTokens takes the server secret (at least 32 bytes) and the agents'
// tokens by name.
func NewTokens(secret []byte, agents map[string]string) (*Tokens, error) {
	if len(secret) < 32 {
		return nil, fmt.Errorf("webchat: secret has %d bytes, want at least 32", len(secret))
	}
	t := &Tokens{secret: secret, agents: map[string]string{}}
	for name, tok := range agents {
		if len(tok) < 16 {
			return nil, fmt.Errorf("webchat: agent %q has a token shorter than 16 characters", name)
		}
		t.agents[tok] = name
	}
	return t, nil
}

// ParseAgents reads SWITCHBOARD_AGENT_TOKENS ("alice:tok1,bob:tok2") and
// SWITCHBOARD_AGENT_TOKEN (the default agent, named "agent").
func ParseAgents(list, single string) (map[string]string, error) {
	out := map[string]string{}
	if single != "" {
		out["agent"] = single
	}
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, tok, ok := strings.Cut(item, ":")
		if !ok || name == "" || tok == "" {
			return nil, fmt.Errorf("SWITCHBOARD_AGENT_TOKENS: %q is not name:token", item)
		}
		out[name] = tok
	}
	return out, nil
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

// Agent returns the agent a token belongs to.
func (t *Tokens) Agent(tok string) (string, bool) {
	for known, name := range t.agents {
		if subtle.ConstantTimeCompare([]byte(known), []byte(tok)) == 1 {
			return name, true
		}
	}
	return "", false
}

// HasAgents says whether any agent can log in.
func (t *Tokens) HasAgents() bool { return len(t.agents) > 0 }

func bearer(h string) string {
	if tok, ok := strings.CutPrefix(h, "Bearer "); ok {
		return strings.TrimSpace(tok)
	}
	return ""
}
