package config

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestShippedConfigLoads(t *testing.T) {
	cfg, err := Load(filepath.Join("..", "configs", "switchboard.yaml"))
	if err != nil {
		t.Fatalf("shipped config: %v", err)
	}
	var names []string
	for _, tp := range cfg.Handoff.RestrictedTopics {
		names = append(names, tp.Name)
	}
	if got := strings.Join(names, ","); got != "billing_disputes,account_cancellation,legal" {
		t.Errorf("restricted topics = %s", got)
	}
	if cfg.Handoff.Level != "balanced" || cfg.Listen.HTTP != ":8080" || cfg.Listen.SIP != ":5060" {
		t.Errorf("unexpected defaults: %+v %+v", cfg.Handoff.Level, cfg.Listen)
	}
}

func shipped(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "configs", "switchboard.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// lineOf returns the 1-based line of the first occurrence of s in text.
func lineOf(t *testing.T, text, s string) int {
	t.Helper()
	i := strings.Index(text, s)
	if i < 0 {
		t.Fatalf("%q not in config", s)
	}
	return strings.Count(text[:i], "\n") + 1
}

func TestConfigErrorsNameFileLineAndKey(t *testing.T) {
	tests := []struct {
		name     string
		old, new string // replacement applied to the shipped file
		anchor   string // text on the line the error must point at
		want     string // key and message fragment
	}{
		{"unknown top-level key", "data_dir: ./data", "data_dir: ./data\nverbose: true", "verbose: true", "verbose: unknown key"},
		{"unknown nested key", "    threshold: -0.7", "    threshold: -0.7\n    treshold: 2", "treshold: 2", "handoff.frustration.treshold: unknown key"},
		{"wrong type", "failed_turns: 2", "failed_turns: two", "failed_turns: two", `handoff.failed_turns: "two" is not a valid whole number`},
		{"bad duration", "ring_timeout: 30s", "ring_timeout: soon", "ring_timeout: soon", "handoff.targets.support_line.ring_timeout:"},
		{"bad level", "level: balanced", "level: fast", "level: fast", `handoff.level: "fast" is not one of`},
		{"bad channel level", "voice: quick", "voice: eager", "voice: eager", "handoff.channels.voice:"},
		{"unknown channel", "voice: quick", "webchat: quick", "webchat: quick", `handoff.channels.webchat: "webchat" is not one of web, voice, webrtc, sms, email, slack`},
		{"bad topic name", "- name: legal", "- name: Legal Stuff", "- name: Legal Stuff", "handoff.restricted_topics[2].name:"},
		{"list expected", "days: [mon, tue, wed, thu, fri]", "days: weekdays", "days: weekdays", "handoff.business_hours.days: expected a list"},
		{"unknown target", "default: agent_console", "default: nobody", "default: nobody", `handoff.fallback.default: "nobody" is not a target`},
		{"dsn in file", "dsn_env: SWITCHBOARD_DATABASE_URL", "dsn_env: postgres://u:p@h/db", "dsn_env: postgres", "store.postgres.dsn_env: names an environment variable"},
		{"bad address", `http: ":8080"`, `http: "8080"`, `http: "8080"`, `listen.http: "8080" is not a host:port`},
		{"duplicate key", "data_dir: ./data", "data_dir: ./data\ndata_dir: ./other", "data_dir: ./other", "data_dir: key appears twice"},
		{"open trunk", "allow: [127.0.0.0/8, \"::1/128\"]", "allow: [0.0.0.0/0]", "allow: [0.0.0.0/0]", "channels.voice.trunks[0].allow: allowing every address needs credentials"},
		{"bad trunk cidr", "allow: [127.0.0.0/8, \"::1/128\"]", "allow: [localhost]", "allow: [localhost]", `channels.voice.trunks[0].allow[0]: "localhost" is not a CIDR`},
		{"bad codec", "codecs: [G722, PCMU, PCMA]", "codecs: [G729]", "codecs: [G729]", `channels.voice.codecs[0]: "G729" is not one of`},
		{"odd rtp port", "rtp_ports: {min: 20000, max: 29998}", "rtp_ports: {min: 20001, max: 29998}", "rtp_ports:", "channels.voice.rtp_ports: min 20001"},
		{"bad digit", `handoff_digit: "0"`, `handoff_digit: "00"`, "handoff_digit:", `channels.voice.handoff_digit: "00" is not one of`},
		{"unspecified public address", "public_address: 127.0.0.1", "public_address: 0.0.0.0", "public_address: 0.0.0.0", "channels.voice.public_address:"},
		{"threshold out of range", "threshold: -0.7", "threshold: 0.5", "threshold: 0.5", "handoff.frustration.threshold: 0.5 must be between"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := strings.Replace(shipped(t), tt.old, tt.new, 1)
			_, err := Parse("bad.yaml", []byte(text))
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("want config.Errors, got %v", err)
			}
			want := "bad.yaml:" + itoa(lineOf(t, text, tt.anchor)) + ": " + tt.want
			if !strings.Contains(errs.Error(), want) {
				t.Errorf("errors:\n%s\nwant a line containing:\n%s", errs, want)
			}
		})
	}
}

func TestConfigReportsAllErrorsAtOnce(t *testing.T) {
	text := shipped(t)
	text = strings.Replace(text, "level: balanced", "level: fast", 1)
	text = strings.Replace(text, "failed_turns: 2", "failed_turns: 0", 1)
	text = strings.Replace(text, "data_dir: ./data", "data_dir: ./data\nbogus: 1", 1)
	_, err := Parse("bad.yaml", []byte(text))
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("want Errors, got %v", err)
	}
	// Unknown keys are found before values are checked; fix them and the
	// value errors show up together.
	if len(errs) != 1 || errs[0].Key != "bogus" {
		t.Fatalf("want the unknown key first, got %v", errs)
	}
	text = strings.Replace(text, "\nbogus: 1", "", 1)
	_, err = Parse("bad.yaml", []byte(text))
	if !errors.As(err, &errs) || len(errs) != 2 {
		t.Fatalf("want 2 errors, got %v", err)
	}
}

func TestConfigBadInput(t *testing.T) {
	tests := map[string]string{
		"empty":      "",
		"not yaml":   "listen: [unclosed",
		"a list":     "- a\n- b\n",
		"tab indent": "listen:\n\thttp: x\n",
	}
	for name, text := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Parse("x.yaml", []byte(text))
			if err == nil || !strings.HasPrefix(err.Error(), "x.yaml") {
				t.Fatalf("want an error naming the file, got %v", err)
			}
		})
	}
}

func TestConfigFileTooLarge(t *testing.T) {
	p := filepath.Join(t.TempDir(), "big.yaml")
	if err := os.WriteFile(p, []byte(strings.Repeat("#", MaxFileSize+1)), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(p)
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("want a size error, got %v", err)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
