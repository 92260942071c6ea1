package config

import (
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// validateAgents checks the agents: each has a name, and an id, a token
// source and a Slack identity of its own, so that a login, a claim or a
// reply names one person.
func validateAgents(c *checker, agents []Agent) {
	ids, envs, files, slack := map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}
	for i, a := range agents {
		key := fmt.Sprintf("agents[%d]", i)
		c.required(key+".name", a.Name)
		if a.ID != "" {
			c.once(ids, i, key+".id", "id", a.ID)
		} else {
			c.once(ids, i, key+".name", "id", a.AgentID())
		}
		switch {
		case a.TokenEnv == "" && a.TokenFile == "":
			c.addf(key+".token_env", "give token_env or token_file")
		case a.TokenEnv != "" && a.TokenFile != "":
			c.addf(key+".token_file", "give token_env or token_file, not both")
		case a.TokenEnv != "" && !envName.MatchString(a.TokenEnv):
			c.addf(key+".token_env", "%q is not an environment variable name", a.TokenEnv)
		case a.TokenEnv != "":
			c.once(envs, i, key+".token_env", "token_env", a.TokenEnv)
		default:
			c.once(files, i, key+".token_file", "token_file", filepath.Clean(a.TokenFile))
		}
		c.once(slack, i, key+".slack_user_id", "slack_user_id", a.SlackUserID)
	}
}

// once reports v at key when an earlier agent has it; seen maps each value
// to the first agent with it.
func (c *checker) once(seen map[string]int, i int, key, what, v string) {
	if v == "" {
		return
	}
	if j, ok := seen[v]; ok {
		c.addf(key, "agents[%d] already has %s %q: each agent needs their own", j, what, v)
		return
	}
	seen[v] = i
}

// AgentID is the agent's id: ID when set, else the name lowercased with
// spaces as dashes.
func (a Agent) AgentID() string {
	if a.ID != "" {
		return a.ID
	}
	return strings.ReplaceAll(strings.ToLower(strings.TrimSpace(a.Name)), " ", "-")
}

// validatePII checks the admin's patterns. One that matches empty text
// (like an empty one, or \d*) would mask between every character of
// every summary.
func validatePII(c *checker, p PII) {
	for i, pat := range p.Patterns {
		key := fmt.Sprintf("handoff.pii.patterns[%d]", i)
		re, err := regexp.Compile(pat)
		switch {
		case err != nil:
			c.addf(key, "not a regular expression: %v", err)
		case re.MatchString(""):
			c.addf(key, "matches empty text; a pattern must match what it masks")
		}
	}
}

func validateDelivery(c *checker, d Delivery) {
	count := func(key string, n int, most int) {
		if n < 1 || n > most {
			c.addf(key, "%d must be between 1 and %d", n, most)
		}
	}
	count("delivery.workers", d.Workers, 256)
	count("delivery.batch", d.Batch, 1000)
	between := func(key string, v, lo, hi time.Duration) {
		if v < lo || v > hi {
			c.addf(key, "%s must be between %s and %s", v, lo, hi)
		}
	}
	between("delivery.lease", d.Lease, time.Second, time.Hour)
	between("delivery.poll_interval", d.PollInterval, 10*time.Millisecond, time.Minute)
	between("delivery.min_backoff", d.MinBackoff, 10*time.Millisecond, time.Hour)
	if d.MaxBackoff < d.MinBackoff {
		c.addf("delivery.max_backoff", "%s is below min_backoff (%s)", d.MaxBackoff, d.MinBackoff)
	} else {
		between("delivery.max_backoff", d.MaxBackoff, 10*time.Millisecond, 24*time.Hour)
	}
	between("delivery.max_age", d.MaxAge, time.Minute, 30*24*time.Hour)
}

// validateWebhook checks the handoff webhook: an http(s) URL when it is on,
// and a variable name, not the secret itself, for the signing key.
func validateWebhook(c *checker, w Webhook) {
	if w.URL != "" {
		if u, err := url.Parse(w.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			c.addf("handoff.webhook.url", "is not an http(s) URL like https://helpdesk.example.com/hooks/switchboard")
		}
	}
	if w.SecretEnv != "" && !envName.MatchString(w.SecretEnv) {
		c.addf("handoff.webhook.secret_env", "names an environment variable; put the secret itself in that variable, never in the file")
	}
}
