package desk

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"os"
	"strings"
	"unicode"
	"unicode/utf8"

	"switchboard/config"
)

// MinTokenLen is the shortest agent token accepted.
const MinTokenLen = 16

// DefaultAgentName is shown for the one agent of a single-token setup,
// which has no name of its own.
const DefaultAgentName = "Support agent"

// Agent is a person who takes handoffs. ID is what claims, replies and
// resolutions record; Name is what customers and colleagues see.
type Agent struct {
	ID   string
	Name string
}

// Agents knows the agents and their tokens. Tokens are kept only as
// SHA-256 hashes, and a token is compared with every known hash in
// constant time, so neither memory nor timing gives one away.
type Agents struct {
	list   []agentEntry
	byID   map[string]Agent
	single bool
}

type agentEntry struct {
	hash  [32]byte
	agent Agent
}

// Sources are where agent tokens come from besides the config: the
// environment, and files (paths already resolved).
type Sources struct {
	Getenv   func(string) string
	ReadFile func(string) ([]byte, error)
	// ResolvePath makes a config path absolute (relative to the config file).
	ResolvePath func(string) string
}

// OSSources reads the process environment and the file system.
func OSSources(resolve func(string) string) Sources {
	return Sources{Getenv: os.Getenv, ReadFile: os.ReadFile, ResolvePath: resolve}
}

// LoadAgents builds the agents from the config. With none configured it
// falls back to SWITCHBOARD_AGENT_TOKENS ("id:token,...") and then to the
// single SWITCHBOARD_AGENT_TOKEN (one agent, id "agent"); single, when not
// empty, is that token (generated on first start when the variable is
// unset). Two agents with one token are an error.
func LoadAgents(cfg []config.Agent, src Sources, single string) (*Agents, error) {
	a := &Agents{byID: map[string]Agent{}}
	for _, c := range cfg {
		tok, err := token(c, src)
		if err != nil {
			return nil, err
		}
		if err := a.add(Agent{ID: c.AgentID(), Name: c.Name}, tok); err != nil {
			return nil, err
		}
	}
	if len(cfg) > 0 {
		return a, nil
	}
	if err := a.addList(src.Getenv("SWITCHBOARD_AGENT_TOKENS")); err != nil {
		return nil, err
	}
	if len(a.list) == 0 && single != "" {
		a.single = true
		if err := a.add(Agent{ID: "agent", Name: DefaultAgentName}, single); err != nil {
			return nil, err
		}
	}
	return a, nil
}

func token(c config.Agent, src Sources) (string, error) {
	if c.TokenEnv != "" {
		tok := strings.TrimSpace(src.Getenv(c.TokenEnv))
		if tok == "" {
			return "", fmt.Errorf("agent %s: the environment variable %s is not set", c.AgentID(), c.TokenEnv)
		}
		return tok, nil
	}
	b, err := src.ReadFile(src.ResolvePath(c.TokenFile))
	if err != nil {
		return "", fmt.Errorf("agent %s: token file: %w", c.AgentID(), err)
	}
	return strings.TrimSpace(string(b)), nil
}

func (a *Agents) addList(list string) error {
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		id, tok, ok := strings.Cut(item, ":")
		if !ok || id == "" || tok == "" {
			return fmt.Errorf("SWITCHBOARD_AGENT_TOKENS: %q is not name:token", item)
		}
		if err := a.add(Agent{ID: id, Name: capitalise(id)}, tok); err != nil {
			return err
		}
	}
	return nil
}

func (a *Agents) add(ag Agent, tok string) error {
	if len(tok) < MinTokenLen {
		return fmt.Errorf("agent %s: the token is shorter than %d characters", ag.ID, MinTokenLen)
	}
	if _, dup := a.byID[ag.ID]; dup {
		return fmt.Errorf("agent %s is configured twice", ag.ID)
	}
	h := sha256.Sum256([]byte(tok))
	for _, e := range a.list {
		if e.hash == h {
			return fmt.Errorf("agents %s and %s have the same token", e.agent.ID, ag.ID)
		}
	}
	if ag.Name == "" {
		ag.Name = capitalise(ag.ID)
	}
	a.list = append(a.list, agentEntry{hash: h, agent: ag})
	a.byID[ag.ID] = ag
	return nil
}

// Authenticate returns the agent whose token tok is.
func (a *Agents) Authenticate(tok string) (Agent, bool) {
	if tok == "" {
		return Agent{}, false
	}
	h := sha256.Sum256([]byte(tok))
	var found Agent
	ok := 0
	for _, e := range a.list { // every entry, match or not: constant time
		if subtle.ConstantTimeCompare(e.hash[:], h[:]) == 1 {
			found, ok = e.agent, 1
		}
	}
	return found, ok == 1
}

// Name is the display name of agent id; an unknown id (an agent removed
// from the config) shows as itself, capitalised.
func (a *Agents) Name(id string) string {
	if ag, ok := a.byID[id]; ok {
		return ag.Name
	}
	if id == "" {
		return DefaultAgentName
	}
	return capitalise(id)
}

// Len is how many agents can sign in.
func (a *Agents) Len() int { return len(a.list) }

func capitalise(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}
