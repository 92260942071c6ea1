// Package config owns Switchboard's typed configuration: the struct tree that
// configs/switchboard.yaml decodes into, strict loading that reports every
// error with file, line and key, and validation. It does no other I/O than
// reading the file it is given.
package config

import "time"

// Config is the whole configuration. Defaults live in the shipped
// configs/switchboard.yaml, not in code: a field left out is its zero value
// and validation says when that is not allowed.
type Config struct {
	Listen    Listen    `yaml:"listen" json:"listen"`
	DataDir   string    `yaml:"data_dir" json:"data_dir"` // as written: relative to the file's folder, see ResolvePath
	Log       Log       `yaml:"log" json:"log"`
	Store     Store     `yaml:"store" json:"store"`
	Handoff   Handoff   `yaml:"handoff" json:"handoff"`
	Responder Responder `yaml:"responder" json:"responder"`
	Channels  Channels  `yaml:"channels" json:"channels"`
	// Speech is the recogniser and the synthesiser every call uses, a
	// phone call or a browser's.
	Speech SpeechProviders `yaml:"speech" json:"speech"`
	// Agents are the people who take handoffs at the desk (console, Slack).
	// Empty: one agent, "agent", with SWITCHBOARD_AGENT_TOKEN or a token
	// generated into data_dir/agent-token.
	Agents []Agent `yaml:"agents" json:"agents"`
	// Delivery tunes the outbox worker that sends replies out through
	// each conversation's own channel.
	Delivery Delivery `yaml:"delivery" json:"delivery"`

	// File is the path the config was loaded from; not part of the YAML.
	File string `yaml:"-" json:"-"`
	// Warnings are what Parse found that works today but should change,
	// such as a key that has moved; not part of the YAML. The gateway logs
	// them and check-config prints them.
	Warnings Errors `yaml:"-" json:"-"`
}

// Listen holds the addresses the gateway listens on.
type Listen struct {
	HTTP string `yaml:"http" json:"http"`
	SIP  string `yaml:"sip" json:"sip"`
	// MaxPerClient bounds the HTTP requests and streams one client address
	// has in progress at once; 0 turns the cap off (behind a load balancer
	// every client shares its address: cap there instead).
	MaxPerClient int `yaml:"max_per_client" json:"max_per_client"`
}

// Log sets the log level and format.
type Log struct {
	Level  string `yaml:"level" json:"level"`   // debug, info, warn, error
	Format string `yaml:"format" json:"format"` // auto, text, json
}

// Store chooses the conversation store.
type Store struct {
	Driver   string   `yaml:"driver" json:"driver"` // sqlite or postgres
	SQLite   SQLite   `yaml:"sqlite" json:"sqlite"`
	Postgres Postgres `yaml:"postgres" json:"postgres"`
}

// SQLite is the embedded store: one file under the data dir.
type SQLite struct {
	Path       string `yaml:"path" json:"path"`
	Durability string `yaml:"durability" json:"durability"` // full or normal
}

// Postgres takes its DSN from an environment variable so that no secret is
// ever written into a config file.
type Postgres struct {
	DSNEnv string `yaml:"dsn_env" json:"dsn_env"`
}

// Handoff configures when and where conversations go to humans.
type Handoff struct {
	Level            string            `yaml:"level" json:"level"` // ai_only, quick, balanced, ai_first, advanced
	Advanced         Advanced          `yaml:"advanced" json:"advanced"`
	Channels         map[string]string `yaml:"channels" json:"channels"` // channel -> level override
	RestrictedTopics []Topic           `yaml:"restricted_topics" json:"restricted_topics"`
	Frustration      Frustration       `yaml:"frustration" json:"frustration"`
	FailedTurns      int               `yaml:"failed_turns" json:"failed_turns"`
	ProblemStatement ProblemStatement  `yaml:"problem_statement" json:"problem_statement"`
	Collect          []string          `yaml:"collect" json:"collect"`
	BusinessHours    BusinessHours     `yaml:"business_hours" json:"business_hours"`
	Fallback         Fallback          `yaml:"fallback" json:"fallback"`
	Targets          map[string]Target `yaml:"targets" json:"targets"`
	Messages         Messages          `yaml:"messages" json:"messages"`
	// WhenNoAgent is what a handoff does while no agent is online: wait
	// (the customer is told and the conversation waits in the queue) or
	// follow_up (recorded for a human to follow up, as after hours).
	WhenNoAgent string `yaml:"when_no_agent" json:"when_no_agent"`
	// PII is what is masked wherever context leaves the store (summaries,
	// SIP headers, Slack posts, forwarded mail); the transcript keeps all.
	PII PII `yaml:"pii" json:"pii"`
	// Webhook forwards each handoff's context packet, masked, to the
	// contact center's own systems (helpdesk, CRM).
	Webhook Webhook `yaml:"webhook" json:"webhook"`
}

// Webhook is where handoffs are posted. The URL may itself carry a secret
// (a token in its path), so it is never logged; the signing secret comes
// from an environment variable, never from the file.
type Webhook struct {
	URL string `yaml:"url" json:"url"` // http(s); "" turns the webhook off
	// SecretEnv names the environment variable holding the key the body is
	// signed with (HMAC-SHA256); "" sends unsigned posts.
	SecretEnv string `yaml:"secret_env" json:"secret_env"`
}

// PII lists what is masked in context that leaves the store.
type PII struct {
	// MaskCards masks payment card numbers (13-19 digits that pass Luhn).
	MaskCards bool `yaml:"mask_cards" json:"mask_cards"`
	// Patterns are the admin's own regular expressions (RE2) to mask.
	Patterns []string `yaml:"patterns" json:"patterns"`
}

// Agent is a person who takes handoffs. The token comes from the
// environment variable TokenEnv or the file TokenFile (relative to the
// config file), never from the config itself.
type Agent struct {
	Name        string `yaml:"name" json:"name"` // shown to customers: "Sam"
	ID          string `yaml:"id" json:"id"`     // recorded on claims and replies; defaults to the name lowercased
	TokenEnv    string `yaml:"token_env" json:"token_env"`
	TokenFile   string `yaml:"token_file" json:"token_file"`
	SlackUserID string `yaml:"slack_user_id" json:"slack_user_id"` // optional: the agent's Slack identity
}

// Delivery tunes the outbox worker.
type Delivery struct {
	Workers      int           `yaml:"workers" json:"workers"`             // items sent at once per instance
	Batch        int           `yaml:"batch" json:"batch"`                 // items leased per poll
	Lease        time.Duration `yaml:"lease" json:"lease"`                 // how long a leased item is held before another instance may take it
	PollInterval time.Duration `yaml:"poll_interval" json:"poll_interval"` // how often the outbox is polled when no wake-up came
	MinBackoff   time.Duration `yaml:"min_backoff" json:"min_backoff"`     // first retry delay; doubles each attempt, with jitter
	MaxBackoff   time.Duration `yaml:"max_backoff" json:"max_backoff"`
	MaxAge       time.Duration `yaml:"max_age" json:"max_age"` // give up on an item this old: the conversation records "not delivered"
}

// Advanced sets each trigger by itself; used when Level is "advanced".
type Advanced struct {
	Enabled                  bool   `yaml:"enabled" json:"enabled"`
	HumanRequest             bool   `yaml:"human_request" json:"human_request"`
	Frustration              string `yaml:"frustration" json:"frustration"`   // off, first_sign, sustained
	Unproductive             string `yaml:"unproductive" json:"unproductive"` // off, at_once, after_attempt
	ProblemStatementRequired bool   `yaml:"problem_statement_required" json:"problem_statement_required"`
}

// Topic is a restricted topic: conversations about it always go to humans.
type Topic struct {
	Name        string   `yaml:"name" json:"name"`
	Description string   `yaml:"description" json:"description"`
	Examples    []string `yaml:"examples" json:"examples"`
	Keywords    []string `yaml:"keywords" json:"keywords"`
	Level       string   `yaml:"level" json:"level"` // optional override for this topic
}

// Frustration tunes the frustration trigger.
type Frustration struct {
	Threshold      float64 `yaml:"threshold" json:"threshold"`             // sentiment at or below this is frustrated (-1..0)
	SustainedTurns int     `yaml:"sustained_turns" json:"sustained_turns"` // consecutive frustrated customer turns for "sustained"
	Profanity      bool    `yaml:"profanity" json:"profanity"`
	Shouting       bool    `yaml:"shouting" json:"shouting"`
	Repetition     bool    `yaml:"repetition" json:"repetition"`
}

// ProblemStatement says what makes a problem statement complete for ai_first.
type ProblemStatement struct {
	MinWords int `yaml:"min_words" json:"min_words"` // content words describing the problem
}

// BusinessHours is when humans are there to take handoffs.
type BusinessHours struct {
	Timezone string   `yaml:"timezone" json:"timezone"`
	Days     []string `yaml:"days" json:"days"` // mon..sun
	Open     string   `yaml:"open" json:"open"` // HH:MM
	Close    string   `yaml:"close" json:"close"`
	Always   bool     `yaml:"always" json:"always"` // staffed around the clock
}

// Fallback names the target each channel hands off to.
type Fallback struct {
	Default  string            `yaml:"default" json:"default"`
	Channels map[string]string `yaml:"channels" json:"channels"`
}

// Target is a named destination for handoffs.
type Target struct {
	Kind        string            `yaml:"kind" json:"kind"` // console, sip
	URI         string            `yaml:"uri" json:"uri"`
	Method      string            `yaml:"method" json:"method"` // refer, bridge, refer_then_bridge
	RingTimeout time.Duration     `yaml:"ring_timeout" json:"ring_timeout"`
	Headers     map[string]string `yaml:"headers" json:"headers"`
}

// Messages are the customer-facing texts around a handoff.
type Messages struct {
	Handoff             string `yaml:"handoff" json:"handoff"`
	AfterHours          string `yaml:"after_hours" json:"after_hours"`
	NoTransfer          string `yaml:"no_transfer" json:"no_transfer"`
	TopicDeclined       string `yaml:"topic_declined" json:"topic_declined"`
	AskProblemStatement string `yaml:"ask_problem_statement" json:"ask_problem_statement"`
	// TransferFailed is said when a live transfer reached nobody (no
	// answer, busy, rejected) and a callback was recorded instead.
	TransferFailed string `yaml:"transfer_failed" json:"transfer_failed"`
	// NoAgent is said on a handoff while no agent is online.
	NoAgent string `yaml:"no_agent" json:"no_agent"`
}

// Responder chooses who writes the AI's replies.
type Responder struct {
	Kind     string   `yaml:"kind" json:"kind"` // embedded or openai
	Embedded Embedded `yaml:"embedded" json:"embedded"`
	// OpenAI is used when Kind is "openai"; the embedded responder (its
	// knowledge is still required) answers when the provider fails.
	OpenAI OpenAIResponder `yaml:"openai" json:"openai"`
}

// OpenAIResponder is an OpenAI-compatible chat completions API: OpenAI
// itself, or a local server (vLLM, llama.cpp, Ollama) speaking its wire
// format.
type OpenAIResponder struct {
	BaseURL string `yaml:"base_url" json:"base_url"` // e.g. https://api.openai.com/v1
	Model   string `yaml:"model" json:"model"`
	// APIKeyEnv names the environment variable holding the API key; the key
	// itself never goes in the file. Empty for a local server without keys.
	APIKeyEnv string `yaml:"api_key_env" json:"api_key_env"`
	// Timeout bounds a whole AI turn: connecting, retries and waits, and the
	// streamed reply; past it the embedded responder answers.
	Timeout time.Duration `yaml:"timeout" json:"timeout"`
	// ConnectTimeout bounds opening a connection; 0 leaves it to Timeout.
	ConnectTimeout time.Duration `yaml:"connect_timeout" json:"connect_timeout"`
	// MaxRetries is how many times a rate-limited (429), failed (5xx) or
	// unreachable request is tried again within Timeout.
	MaxRetries int `yaml:"max_retries" json:"max_retries"`
	// HistoryTokens is the budget, in estimated tokens, for the earlier
	// turns sent with each request; older turns are summarised.
	HistoryTokens int `yaml:"history_tokens" json:"history_tokens"`
	// Instructions are the company's own instructions to the model (tone,
	// what to offer, what never to say), added to the system prompt.
	Instructions string `yaml:"instructions" json:"instructions"`
	// Temperature is the sampling temperature, 0..2; 0 leaves the
	// provider's default.
	Temperature float32 `yaml:"temperature" json:"temperature"`
}

// Embedded configures the rule-based responder.
type Embedded struct {
	Knowledge string `yaml:"knowledge" json:"knowledge"` // path, relative to the config file
}

// Channels enables and tunes the channel adapters.
type Channels struct {
	Web   WebChannel   `yaml:"web" json:"web"`
	Voice VoiceChannel `yaml:"voice" json:"voice"`
}

// WebChannel is the web chat widget and its API.
type WebChannel struct {
	Enabled         bool      `yaml:"enabled" json:"enabled"`
	AllowedOrigins  []string  `yaml:"allowed_origins" json:"allowed_origins"`
	MaxMessageChars int       `yaml:"max_message_chars" json:"max_message_chars"`
	RateLimit       RateLimit `yaml:"rate_limit" json:"rate_limit"`
}

// RateLimit bounds how fast one client may send.
type RateLimit struct {
	PerIP           Rate `yaml:"per_ip" json:"per_ip"`
	PerConversation Rate `yaml:"per_conversation" json:"per_conversation"`
}

// Rate is a token bucket: Per second on average, Burst at once.
type Rate struct {
	PerSecond float64 `yaml:"per_second" json:"per_second"`
	Burst     int     `yaml:"burst" json:"burst"`
}

// VoiceChannel is SIP telephony: trunks call in, the AI answers, and
// handoffs go to a SIP target by REFER or a bridged call.
type VoiceChannel struct {
	Enabled       bool   `yaml:"enabled" json:"enabled"`
	Greeting      string `yaml:"greeting" json:"greeting"`
	PublicAddress string `yaml:"public_address" json:"public_address"` // the IP put in SDP and Contact
	// TLS adds a SIP-over-TLS listener when a certificate is configured.
	TLS          VoiceTLS      `yaml:"tls" json:"tls"`
	RTPPorts     PortRange     `yaml:"rtp_ports" json:"rtp_ports"`
	MediaTimeout time.Duration `yaml:"media_timeout" json:"media_timeout"`
	Codecs       []string      `yaml:"codecs" json:"codecs"`               // preference order: G722, PCMU, PCMA
	HandoffDigit string        `yaml:"handoff_digit" json:"handoff_digit"` // DTMF key that asks for a human; "" = off
	EndOfSpeech  time.Duration `yaml:"end_of_speech" json:"end_of_speech"` // silence that ends an utterance
	MaxCalls     int           `yaml:"max_calls" json:"max_calls"`
	// DrainTimeout is how long calls under way may go on after a stop
	// (SIGTERM) while new ones are refused; then they are hung up.
	DrainTimeout time.Duration `yaml:"drain_timeout" json:"drain_timeout"`
	// Limits bound each source address's request rate; absent = no limits.
	Limits VoiceLimits `yaml:"limits" json:"limits"`
	// TCP guards SIP over TCP and TLS; absent = no guards.
	TCP VoiceTCP `yaml:"tcp" json:"tcp"`
	// RingBeforeAnswer lets a call ring (180) this long before the AI
	// answers; 0 answers at once.
	RingBeforeAnswer time.Duration `yaml:"ring_before_answer" json:"ring_before_answer"`
	// ReferTimeout bounds the wait for a REFER's final NOTIFY.
	ReferTimeout time.Duration `yaml:"refer_timeout" json:"refer_timeout"`
	// Outbound is an optional proxy URI bridged calls to fallback targets go
	// through (the outbound trunk); empty sends them to the target directly.
	Outbound string `yaml:"outbound" json:"outbound"`
	// OutboundUsername, with the password from the environment variable
	// OutboundPasswordEnv or the file OutboundPasswordFile (relative to the
	// config file), answers a digest challenge (401/407) to the calls the
	// gateway places, from the outbound proxy or the target. The password
	// itself is never in the config.
	OutboundUsername     string `yaml:"outbound_username" json:"outbound_username"`
	OutboundPasswordEnv  string `yaml:"outbound_password_env" json:"outbound_password_env"`
	OutboundPasswordFile string `yaml:"outbound_password_file" json:"outbound_password_file"`
	// Identity is the gateway's own SIP URI: From of the calls it places
	// that have no caller of their own (a visitor calling from the
	// browser), and Referred-By of its REFERs. A carrier usually wants a
	// number it assigned you; "" is sip:switchboard@public_address.
	Identity string  `yaml:"identity" json:"identity"`
	Trunks   []Trunk `yaml:"trunks" json:"trunks"`
	// STT and TTS are where speech was set before it moved to the top-level
	// speech section. Parse still reads them, with a warning, into
	// Config.Speech and leaves them empty: nothing else reads them.
	STT Speech `yaml:"stt" json:"-"`
	TTS Speech `yaml:"tts" json:"-"`
}

// VoiceLimits bound what one source address may send, per kind of
// request: past the rate it is answered 503 with Retry-After, past
// DropAfter such refusals a second it is answered nothing. A rate with
// per_second 0 is no limit.
type VoiceLimits struct {
	Invite    Rate `yaml:"invite" json:"invite"`
	Register  Rate `yaml:"register" json:"register"`
	Options   Rate `yaml:"options" json:"options"`
	Other     Rate `yaml:"other" json:"other"` // everything but ACK, which is never limited
	DropAfter int  `yaml:"drop_after" json:"drop_after"`
}

// VoiceTCP guards the SIP TCP and TLS listeners against connections that
// hold memory and do nothing.
type VoiceTCP struct {
	FirstMessageTimeout time.Duration `yaml:"first_message_timeout" json:"first_message_timeout"`
	IdleTimeout         time.Duration `yaml:"idle_timeout" json:"idle_timeout"`
	MaxPerSource        int           `yaml:"max_per_source" json:"max_per_source"`
}

// VoiceTLS is the optional SIP-over-TLS listener.
type VoiceTLS struct {
	Listen   string `yaml:"listen" json:"listen"`
	CertFile string `yaml:"cert_file" json:"cert_file"`
	KeyFile  string `yaml:"key_file" json:"key_file"`
}

// PortRange is an inclusive range of UDP ports.
type PortRange struct {
	Min int `yaml:"min" json:"min"`
	Max int `yaml:"max" json:"max"`
}

// Trunk is a SIP peer allowed to send calls: by source address, by digest
// credentials, or both.
type Trunk struct {
	Name        string   `yaml:"name" json:"name"`
	Allow       []string `yaml:"allow" json:"allow"` // CIDRs
	Username    string   `yaml:"username" json:"username"`
	PasswordEnv string   `yaml:"password_env" json:"password_env"` // environment variable holding the digest password
}
