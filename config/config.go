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
	Listen    Listen    `yaml:"listen"`
	DataDir   string    `yaml:"data_dir"`
	Log       Log       `yaml:"log"`
	Store     Store     `yaml:"store"`
	Handoff   Handoff   `yaml:"handoff"`
	Responder Responder `yaml:"responder"`
	Channels  Channels  `yaml:"channels"`

	// File is the path the config was loaded from; not part of the YAML.
	File string `yaml:"-"`
}

// Listen holds the addresses the gateway listens on.
type Listen struct {
	HTTP string `yaml:"http"`
	SIP  string `yaml:"sip"`
}

// Log sets the log level and format.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // auto, text, json
}

// Store chooses the conversation store.
type Store struct {
	Driver   string   `yaml:"driver"` // sqlite or postgres
	SQLite   SQLite   `yaml:"sqlite"`
	Postgres Postgres `yaml:"postgres"`
}

// SQLite is the embedded store: one file under the data dir.
type SQLite struct {
	Path string `yaml:"path"`
}

// Postgres takes its DSN from an environment variable so that no secret is
// ever written into a config file.
type Postgres struct {
	DSNEnv string `yaml:"dsn_env"`
}

// Handoff configures when and where conversations go to humans.
type Handoff struct {
	Level            string            `yaml:"level"` // ai_only, quick, balanced, ai_first, advanced
	Advanced         Advanced          `yaml:"advanced"`
	Channels         map[string]string `yaml:"channels"` // channel -> level override
	RestrictedTopics []Topic           `yaml:"restricted_topics"`
	Frustration      Frustration       `yaml:"frustration"`
	FailedTurns      int               `yaml:"failed_turns"`
	ProblemStatement ProblemStatement  `yaml:"problem_statement"`
	Collect          []string          `yaml:"collect"`
	BusinessHours    BusinessHours     `yaml:"business_hours"`
	Fallback         Fallback          `yaml:"fallback"`
	Targets          map[string]Target `yaml:"targets"`
	Messages         Messages          `yaml:"messages"`
}

// Advanced sets each trigger by itself; used when Level is "advanced".
type Advanced struct {
	Enabled                  bool   `yaml:"enabled"`
	HumanRequest             bool   `yaml:"human_request"`
	Frustration              string `yaml:"frustration"`  // off, first_sign, sustained
	Unproductive             string `yaml:"unproductive"` // off, at_once, after_attempt
	ProblemStatementRequired bool   `yaml:"problem_statement_required"`
}

// Topic is a restricted topic: conversations about it always go to humans.
type Topic struct {
	Name        string   `yaml:"name"`
	Description string   `yaml:"description"`
	Examples    []string `yaml:"examples"`
	Keywords    []string `yaml:"keywords"`
	Level       string   `yaml:"level"` // optional override for this topic
}

// Frustration tunes the frustration trigger.
type Frustration struct {
	Threshold      float64 `yaml:"threshold"`       // sentiment at or below this is frustrated (-1..0)
	SustainedTurns int     `yaml:"sustained_turns"` // consecutive frustrated customer turns for "sustained"
	Profanity      bool    `yaml:"profanity"`
	Shouting       bool    `yaml:"shouting"`
	Repetition     bool    `yaml:"repetition"`
}

// ProblemStatement says what makes a problem statement complete for ai_first.
type ProblemStatement struct {
	MinWords int `yaml:"min_words"` // content words describing the problem
}

// BusinessHours is when humans are there to take handoffs.
type BusinessHours struct {
	Timezone string   `yaml:"timezone"`
	Days     []string `yaml:"days"` // mon..sun
	Open     string   `yaml:"open"` // HH:MM
	Close    string   `yaml:"close"`
	Always   bool     `yaml:"always"` // staffed around the clock
}

// Fallback names the target each channel hands off to.
type Fallback struct {
	Default  string            `yaml:"default"`
	Channels map[string]string `yaml:"channels"`
}

// Target is a named destination for handoffs.
type Target struct {
	Kind        string            `yaml:"kind"` // console, sip
	URI         string            `yaml:"uri"`
	Method      string            `yaml:"method"` // refer, bridge, refer_then_bridge
	RingTimeout time.Duration     `yaml:"ring_timeout"`
	Headers     map[string]string `yaml:"headers"`
}

// Messages are the customer-facing texts around a handoff.
type Messages struct {
	Handoff             string `yaml:"handoff"`
	AfterHours          string `yaml:"after_hours"`
	NoTransfer          string `yaml:"no_transfer"`
	TopicDeclined       string `yaml:"topic_declined"`
	AskProblemStatement string `yaml:"ask_problem_statement"`
}

// Responder chooses who writes the AI's replies.
type Responder struct {
	Kind     string   `yaml:"kind"` // embedded
	Embedded Embedded `yaml:"embedded"`
}

// Embedded configures the rule-based responder.
type Embedded struct {
	Knowledge string `yaml:"knowledge"` // path, relative to the config file
}

// Channels enables and tunes the channel adapters.
type Channels struct {
	Web   WebChannel   `yaml:"web"`
	Voice VoiceChannel `yaml:"voice"`
}

// WebChannel is the web chat widget and its API.
type WebChannel struct {
	Enabled        bool     `yaml:"enabled"`
	AllowedOrigins []string `yaml:"allowed_origins"`
}

// VoiceChannel is SIP telephony.
type VoiceChannel struct {
	Enabled bool `yaml:"enabled"`
}
