package config

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"switchboard/store"
)

// Levels are the handoff presets, plus "advanced" for per-trigger settings.
var (
	Levels          = []string{"ai_only", "quick", "balanced", "ai_first"}
	levelsOrAdvance = append(slices.Clone(Levels), "advanced")
	channelNames    = names(store.Channels())
	weekdays        = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
	topicName       = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)
	headerName      = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{0,62}$`)
	envName         = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	clock           = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)
)

// names returns vs as strings, for oneOf.
func names[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

type problem struct{ Key, Msg string }

type checker []problem

func (c *checker) addf(key, format string, args ...any) {
	*c = append(*c, problem{key, fmt.Sprintf(format, args...)})
}

func (c *checker) oneOf(key, v string, allowed []string) {
	if !slices.Contains(allowed, v) {
		c.addf(key, "%q is not one of %s", v, strings.Join(allowed, ", "))
	}
}

func (c *checker) required(key, v string) bool {
	if strings.TrimSpace(v) == "" {
		c.addf(key, "is required")
		return false
	}
	return true
}

func (c *checker) addr(key, v string) {
	if !c.required(key, v) {
		return
	}
	if _, _, err := net.SplitHostPort(v); err != nil {
		c.addf(key, "%q is not a host:port address", v)
	}
}

// validate checks values that decoded fine but make no sense.
func validate(cfg *Config) []problem {
	var c checker
	c.addr("listen.http", cfg.Listen.HTTP)
	c.addr("listen.sip", cfg.Listen.SIP)
	if n := cfg.Listen.MaxPerClient; n < 0 || n > 1_000_000 {
		c.addf("listen.max_per_client", "%d must be between 0 (no cap) and 1000000", n)
	}
	c.required("data_dir", cfg.DataDir)
	c.oneOf("log.level", cfg.Log.Level, []string{"debug", "info", "warn", "error"})
	c.oneOf("log.format", cfg.Log.Format, []string{"auto", "text", "json"})
	validateStore(&c, cfg.Store)
	validateHandoff(&c, &cfg.Handoff)
	validateWeb(&c, cfg.Channels.Web)
	validateVoice(&c, cfg.Channels.Voice)
	if cfg.Channels.Voice.Enabled {
		validateSpeech(&c, cfg.Speech)
	}
	validateResponder(&c, cfg.Responder)
	validateAgents(&c, cfg.Agents)
	validateDelivery(&c, cfg.Delivery)
	return c
}

// validateResponder checks the responder. The embedded knowledge is required
// for both kinds: the OpenAI responder puts it in its prompt and falls back
// to the embedded responder when the provider fails.
func validateResponder(c *checker, r Responder) {
	c.oneOf("responder.kind", r.Kind, []string{"embedded", "openai"})
	c.required("responder.embedded.knowledge", r.Embedded.Knowledge)
	if r.Kind != "openai" {
		return
	}
	o, key := r.OpenAI, "responder.openai."
	validateOpenAIAPI(c, key, o.BaseURL, o.Model, o.APIKeyEnv, o.Timeout)
	if o.ConnectTimeout < 0 || o.ConnectTimeout > o.Timeout {
		c.addf(key+"connect_timeout", "%v must be between 0s (no separate bound) and the timeout", o.ConnectTimeout)
	}
	if o.MaxRetries < 0 || o.MaxRetries > 5 {
		c.addf(key+"max_retries", "%d must be between 0 and 5", o.MaxRetries)
	}
	if o.HistoryTokens < 256 || o.HistoryTokens > 200000 {
		c.addf(key+"history_tokens", "%d must be between 256 and 200000", o.HistoryTokens)
	}
	if o.Temperature < 0 || o.Temperature > 2 {
		c.addf(key+"temperature", "%v must be between 0 and 2", o.Temperature)
	}
}

// validateOpenAIAPI checks the keys every OpenAI-compatible API has, the
// responder's and the speech providers': where it is, the model, where the
// key comes from, and how long one request may take.
func validateOpenAIAPI(c *checker, key, baseURL, model, apiKeyEnv string, timeout time.Duration) {
	if u, err := url.Parse(baseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		c.addf(key+"base_url", "%q is not an http(s) URL like https://api.openai.com/v1", baseURL)
	}
	c.required(key+"model", model)
	if apiKeyEnv != "" && !envName.MatchString(apiKeyEnv) {
		c.addf(key+"api_key_env", "names an environment variable; put the key itself in that variable, never in the file")
	}
	if timeout < time.Second || timeout > 2*time.Minute {
		c.addf(key+"timeout", "%v must be between 1s and 2m", timeout)
	}
}

func validateWeb(c *checker, w WebChannel) {
	if !w.Enabled {
		return
	}
	for i, o := range w.AllowedOrigins {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" {
			c.addf(fmt.Sprintf("channels.web.allowed_origins[%d]", i), "%q is not an origin like https://shop.example.com", o)
		}
	}
	if w.MaxMessageChars < 1 || w.MaxMessageChars > 20000 {
		c.addf("channels.web.max_message_chars", "%d must be between 1 and 20000", w.MaxMessageChars)
	}
	for _, r := range []struct {
		key  string
		rate Rate
	}{{"per_ip", w.RateLimit.PerIP}, {"per_conversation", w.RateLimit.PerConversation}} {
		if r.rate.PerSecond <= 0 || r.rate.Burst < 1 {
			c.addf("channels.web.rate_limit."+r.key, "per_second must be above 0 and burst at least 1")
		}
	}
}

func validateStore(c *checker, s Store) {
	c.oneOf("store.driver", s.Driver, []string{"sqlite", "postgres"})
	if s.Driver == "sqlite" {
		c.required("store.sqlite.path", s.SQLite.Path)
		c.oneOf("store.sqlite.durability", s.SQLite.Durability, []string{"full", "normal"})
	}
	if s.Driver == "postgres" {
		c.required("store.postgres.dsn_env", s.Postgres.DSNEnv)
	}
	if s.Postgres.DSNEnv != "" && !envName.MatchString(s.Postgres.DSNEnv) {
		c.addf("store.postgres.dsn_env", "names an environment variable; put the DSN itself in that variable, never in the file")
	}
}

func validateHandoff(c *checker, h *Handoff) {
	c.oneOf("handoff.when_no_agent", h.WhenNoAgent, []string{"wait", "follow_up"})
	c.required("handoff.messages.no_agent", h.Messages.NoAgent)
	validatePII(c, h.PII)
	validateWebhook(c, h.Webhook)
	c.oneOf("handoff.level", h.Level, levelsOrAdvance)
	if h.Level == "advanced" {
		c.oneOf("handoff.advanced.frustration", h.Advanced.Frustration, []string{"off", "first_sign", "sustained"})
		c.oneOf("handoff.advanced.unproductive", h.Advanced.Unproductive, []string{"off", "at_once", "after_attempt"})
	}
	for _, ch := range sortedKeys(h.Channels) {
		c.oneOf("handoff.channels."+ch, ch, channelNames)
		c.oneOf("handoff.channels."+ch, h.Channels[ch], Levels)
	}
	validateTopics(c, h.RestrictedTopics)
	f := h.Frustration
	if f.Threshold < -1 || f.Threshold >= 0 {
		c.addf("handoff.frustration.threshold", "%v must be between -1 and 0 (sentiment at or below it counts as frustrated)", f.Threshold)
	}
	if f.SustainedTurns < 2 || f.SustainedTurns > 10 {
		c.addf("handoff.frustration.sustained_turns", "%d must be between 2 and 10", f.SustainedTurns)
	}
	if h.FailedTurns < 1 || h.FailedTurns > 20 {
		c.addf("handoff.failed_turns", "%d must be between 1 and 20", h.FailedTurns)
	}
	if h.ProblemStatement.MinWords < 1 || h.ProblemStatement.MinWords > 100 {
		c.addf("handoff.problem_statement.min_words", "%d must be between 1 and 100", h.ProblemStatement.MinWords)
	}
	for i, d := range h.Collect {
		c.oneOf(fmt.Sprintf("handoff.collect[%d]", i), d, []string{"name", "email", "phone", "order_number"})
	}
	validateHours(c, h.BusinessHours)
	validateTargets(c, h)
	c.required("handoff.messages.handoff", h.Messages.Handoff)
	c.required("handoff.messages.after_hours", h.Messages.AfterHours)
	c.required("handoff.messages.no_transfer", h.Messages.NoTransfer)
	c.required("handoff.messages.topic_declined", h.Messages.TopicDeclined)
	c.required("handoff.messages.ask_problem_statement", h.Messages.AskProblemStatement)
	c.required("handoff.messages.transfer_failed", h.Messages.TransferFailed)
}

func validateTopics(c *checker, topics []Topic) {
	seen := map[string]bool{}
	for i, t := range topics {
		key := fmt.Sprintf("handoff.restricted_topics[%d]", i)
		if !topicName.MatchString(t.Name) {
			c.addf(key+".name", "%q must be lower_snake_case, 1-63 characters", t.Name)
		}
		if seen[t.Name] {
			c.addf(key+".name", "%q is already a restricted topic", t.Name)
		}
		seen[t.Name] = true
		c.required(key+".description", t.Description)
		if len(t.Examples)+len(t.Keywords) < 3 {
			c.addf(key+".examples", "give at least 3 example phrases or keywords so the topic can be recognised")
		}
		for j, e := range t.Examples {
			c.required(fmt.Sprintf("%s.examples[%d]", key, j), e)
		}
		if t.Level != "" {
			c.oneOf(key+".level", t.Level, Levels)
		}
	}
}

func validateHours(c *checker, b BusinessHours) {
	if b.Always {
		return
	}
	if _, err := time.LoadLocation(b.Timezone); err != nil || b.Timezone == "" {
		c.addf("handoff.business_hours.timezone", "%q is not a known time zone (like Europe/London or UTC)", b.Timezone)
	}
	if len(b.Days) == 0 {
		c.addf("handoff.business_hours.days", "list the open days (mon..sun), or set always: true")
	}
	for i, d := range b.Days {
		c.oneOf(fmt.Sprintf("handoff.business_hours.days[%d]", i), d, weekdays)
	}
	for _, kv := range [][2]string{{"open", b.Open}, {"close", b.Close}} {
		if !clock.MatchString(kv[1]) {
			c.addf("handoff.business_hours."+kv[0], "%q is not a time of day like 09:00", kv[1])
		}
	}
	if clock.MatchString(b.Open) && clock.MatchString(b.Close) && b.Open >= b.Close {
		c.addf("handoff.business_hours.close", "%s is not after open (%s)", b.Close, b.Open)
	}
}

func validateTargets(c *checker, h *Handoff) {
	for _, name := range sortedKeys(h.Targets) {
		t, key := h.Targets[name], "handoff.targets."+name
		c.oneOf(key+".kind", t.Kind, []string{"console", "sip"})
		if t.Kind != "sip" {
			continue
		}
		if !strings.HasPrefix(t.URI, "sip:") && !strings.HasPrefix(t.URI, "sips:") && !strings.HasPrefix(t.URI, "tel:") {
			c.addf(key+".uri", "%q must be a sip:, sips: or tel: URI", t.URI)
		}
		c.oneOf(key+".method", t.Method, []string{"refer", "bridge", "refer_then_bridge"})
		if t.RingTimeout < time.Second || t.RingTimeout > 5*time.Minute {
			c.addf(key+".ring_timeout", "%v must be between 1s and 5m", t.RingTimeout)
		}
		for _, hn := range sortedKeys(t.Headers) {
			if !headerName.MatchString(hn) {
				c.addf(key+".headers."+hn, "%q is not a valid SIP header name", hn)
			}
		}
	}
	if c.required("handoff.fallback.default", h.Fallback.Default) {
		targetExists(c, h, "handoff.fallback.default", h.Fallback.Default)
	}
	for _, ch := range sortedKeys(h.Fallback.Channels) {
		c.oneOf("handoff.fallback.channels."+ch, ch, channelNames)
		targetExists(c, h, "handoff.fallback.channels."+ch, h.Fallback.Channels[ch])
	}
}

func targetExists(c *checker, h *Handoff, key, name string) {
	if _, ok := h.Targets[name]; !ok {
		c.addf(key, "%q is not a target under handoff.targets", name)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
