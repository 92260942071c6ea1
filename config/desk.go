package config

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// validateAgents checks the agents: each has a name, a unique id and
// exactly one token source.
func validateAgents(c *checker, agents []Agent) {
	ids := map[string]bool{}
	for i, a := range agents {
		key := fmt.Sprintf("agents[%d]", i)
		c.required(key+".name", a.Name)
		id := a.AgentID()
		if ids[id] {
			c.addf(key+".name", "agent %q is configured twice", id)
		}
		ids[id] = true
		switch {
		case a.TokenEnv == "" && a.TokenFile == "":
			c.addf(key+".token_env", "give token_env or token_file")
		case a.TokenEnv != "" && a.TokenFile != "":
			c.addf(key+".token_file", "give token_env or token_file, not both")
		case a.TokenEnv != "" && !envName.MatchString(a.TokenEnv):
			c.addf(key+".token_env", "%q is not an environment variable name", a.TokenEnv)
		}
	}
}

// AgentID is the agent's id: ID when set, else the name lowercased with
// spaces as dashes.
func (a Agent) AgentID() string {
	if a.ID != "" {
		return a.ID
	}
	return strings.ReplaceAll(strings.ToLower(strings.TrimSpace(a.Name)), " ", "-")
}

func validatePII(c *checker, p PII) {
	for i, pat := range p.Patterns {
		if _, err := regexp.Compile(pat); err != nil {
			c.addf(fmt.Sprintf("handoff.pii.patterns[%d]", i), "not a regular expression: %v", err)
		}
	}
}

func validateDelivery(c *checker, d Delivery) {
	positive := func(key string, n int, most int) {
		if n < 1 || n > most {
			c.addf(key, "%d must be between 1 and %d", n, most)
		}
	}
	positive("delivery.workers", d.Workers, 256)
	positive("delivery.batch", d.Batch, 1000)
	between := func(key string, v, lo, hi time.Duration) {
		if v < lo || v > hi {
			c.addf(key, "%s must be between %s and %s", v, lo, hi)
		}
	}
	between("delivery.lease", d.Lease, time.Second, time.Hour)
	between("delivery.poll_interval", d.PollInterval, 10*time.Millisecond, time.Minute)
	between("delivery.min_backoff", d.MinBackoff, 10*time.Millisecond, time.Hour)
	between("delivery.max_backoff", d.MaxBackoff, d.MinBackoff, 24*time.Hour)
	between("delivery.max_age", d.MaxAge, time.Minute, 30*24*time.Hour)
}
