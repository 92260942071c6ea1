package config

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
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
		{"unknown top-level key", "data_dir: ../data", "data_dir: ../data\nverbose: true", "verbose: true", "verbose: unknown key"},
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
		{"duplicate key", "data_dir: ../data", "data_dir: ../data\ndata_dir: ./other", "data_dir: ./other", "data_dir: key appears twice"},
		{"open trunk", "allow: [127.0.0.0/8, \"::1/128\"]", "allow: [0.0.0.0/0]", "allow: [0.0.0.0/0]", "channels.voice.trunks[0].allow: allowing every address needs credentials"},
		{"bad trunk cidr", "allow: [127.0.0.0/8, \"::1/128\"]", "allow: [localhost]", "allow: [localhost]", `channels.voice.trunks[0].allow[0]: "localhost" is not a CIDR`},
		{"bad codec", "codecs: [G722, PCMU, PCMA]", "codecs: [G729]", "codecs: [G729]", `channels.voice.codecs[0]: "G729" is not one of`},
		{"odd rtp port", "rtp_ports: {min: 20000, max: 29998}", "rtp_ports: {min: 20001, max: 29998}", "rtp_ports:", "channels.voice.rtp_ports: min 20001"},
		{"limit without burst", "invite: {per_second: 100, burst: 200}", "invite: {per_second: 100, burst: 0}", "invite: {per_second: 100, burst: 0}", "channels.voice.limits.invite: per_second must be 0"},
		{"long drain", "drain_timeout: 60s", "drain_timeout: 2h", "drain_timeout: 2h", "channels.voice.drain_timeout: 2h0m0s must be between 0s and 1h"},
		{"short tcp idle", "idle_timeout: 0s, max_per_source", "idle_timeout: 5s, max_per_source", "idle_timeout: 5s", "channels.voice.tcp.idle_timeout: 5s would cut calls"},
		{"negative drop_after", "drop_after: 20", "drop_after: -1", "drop_after: -1", "channels.voice.limits.drop_after: -1 must be 0 or more"},
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

// edit is a replacement applied to the shipped file.
type edit struct{ old, new string }

// located is an error expected on the line holding anchor: its key and the
// start of its message.
type located struct{ anchor, want string }

// TestConfigReportsEveryErrorInOnePass: errors of the file's shape (unknown
// keys, wrong types) and of its values come back together, sorted by line,
// and a value of the wrong type is reported once, not again by validation.
func TestConfigReportsEveryErrorInOnePass(t *testing.T) {
	tests := []struct {
		name  string
		edits []edit
		want  []located // every error, in order
	}{
		{"unknown key and bad value",
			[]edit{{"data_dir: ../data", "data_dir: ../data\nbogus: 1"}, {"level: balanced", "level: fast"}},
			[]located{{"bogus: 1", "bogus: unknown key"}, {"level: fast", `handoff.level: "fast" is not one of`}}},
		{"bad values around an unknown nested key",
			[]edit{{"level: balanced", "level: fast"}, {"    threshold: -0.7", "    threshold: -0.7\n    treshold: 2"}, {"failed_turns: 2", "failed_turns: 0"}},
			[]located{{"level: fast", "handoff.level:"}, {"treshold: 2", "handoff.frustration.treshold: unknown key"}, {"failed_turns: 0", "handoff.failed_turns: 0 must be between 1 and 20"}}},
		{"wrong type is one error",
			[]edit{{"data_dir: ../data", "data_dir: ../data\nbogus: 1"}, {"failed_turns: 2", "failed_turns: two"}},
			[]located{{"bogus: 1", "bogus: unknown key"}, {"failed_turns: two", `handoff.failed_turns: "two" is not a valid whole number`}}},
		{"wrong type inside a range is not also a bad range",
			[]edit{{"level: balanced", "level: fast"}, {"rtp_ports: {min: 20000,", "rtp_ports: {min: low,"}},
			[]located{{"level: fast", "handoff.level:"}, {"rtp_ports:", `channels.voice.rtp_ports.min: "low" is not a valid whole number`}}},
		{"list item of the wrong shape keeps the others in place",
			[]edit{{"collect: []", "collect: [name, {a: b}, nonsense]"}},
			[]located{{"collect: [name", "handoff.collect[1]: expected a single value, not a mapping"}, {"collect: [name", `handoff.collect[2]: "nonsense" is not one of`}}},
		{"target of the wrong shape is still a target",
			[]edit{{"    agent_console:\n      kind: console", "    agent_console: console"}, {"level: balanced", "level: fast"}},
			[]located{{"level: fast", "handoff.level:"}, {"agent_console: console", "handoff.targets.agent_console: expected a mapping of keys"}}},
		{"duplicate key and bad value",
			[]edit{{"data_dir: ../data", "data_dir: ../data\ndata_dir: ./other"}, {"workers: 8", "workers: 0"}},
			[]located{{"data_dir: ./other", "data_dir: key appears twice"}, {"workers: 0", "delivery.workers: 0 must be between 1 and 256"}}},
		{"duplicate key in a map",
			[]edit{{"level: balanced", "level: fast"}, {"    voice: quick ", "    voice: quick\n    voice: eager "}},
			[]located{{"level: fast", "handoff.level:"}, {"voice: eager", "handoff.channels.voice: key appears twice"}}},
		{"wrong type and bad value in one section",
			[]edit{{"workers: 8", "workers: many"}, {"batch: 64", "batch: 0"}},
			[]located{{"workers: many", `delivery.workers: "many" is not a valid whole number`}, {"batch: 0", "delivery.batch: 0 must be between 1 and 1000"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantErrors(t, tt.edits, tt.want) })
	}
}

// edited is the shipped file with edits applied, each to the first place
// its old text is found.
func edited(t *testing.T, edits []edit) string {
	t.Helper()
	text := shipped(t)
	for _, e := range edits {
		if !strings.Contains(text, e.old) {
			t.Fatalf("%q not in the shipped config", e.old)
		}
		text = strings.Replace(text, e.old, e.new, 1)
	}
	return text
}

// wantErrors parses the shipped file with edits and checks that the errors
// are exactly want, in order.
func wantErrors(t *testing.T, edits []edit, want []located) {
	t.Helper()
	text := edited(t, edits)
	_, err := Parse("bad.yaml", []byte(text))
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("want config.Errors, got %v", err)
	}
	if len(errs) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%s", len(errs), len(want), errs)
	}
	for i, w := range want {
		line := "bad.yaml:" + itoa(lineOf(t, text, w.anchor)) + ": " + w.want
		if !strings.HasPrefix(errs[i].Error(), line) {
			t.Errorf("error %d = %s\nwant     %s", i, errs[i], line)
		}
	}
}

// TestZeroDecodesForEveryConfigType: a value in error is replaced with the
// zero of its type, which must decode back for every type in the tree.
func TestZeroDecodesForEveryConfigType(t *testing.T) {
	seen := map[reflect.Type]bool{}
	var visit func(reflect.Type)
	visit = func(typ reflect.Type) {
		if seen[typ] {
			return
		}
		seen[typ] = true
		v := reflect.New(typ)
		if err := zero(typ).Decode(v.Interface()); err != nil {
			t.Fatalf("zero %s: %v", typ, err)
		}
		// Empty and nil maps and lists are the same to validation.
		got, _ := yaml.Marshal(v.Elem().Interface())
		want, _ := yaml.Marshal(reflect.Zero(typ).Interface())
		if !bytes.Equal(got, want) {
			t.Errorf("zero %s decodes to %s", typ, got)
		}
		switch typ.Kind() {
		case reflect.Struct:
			for i := range typ.NumField() {
				visit(typ.Field(i).Type)
			}
		case reflect.Map, reflect.Slice:
			visit(typ.Elem())
		}
	}
	visit(reflect.TypeFor[Config]())
	if len(seen) < 20 {
		t.Fatalf("visited only %d types", len(seen))
	}
}

// TestConfigRefusesAliasExpansion: a few kilobytes of aliases that name
// more values than any config holds are an error; left alone, such a file
// of a megabyte would take hours to walk.
func TestConfigRefusesAliasExpansion(t *testing.T) {
	const n = 400 // topics, each with the same n examples
	text := "handoff:\n  restricted_topics: [&t {name: a, examples: [" + strings.Repeat("x, ", n-1) + "x]}" +
		strings.Repeat(", *t", n-1) + "]\n"
	_, err := Parse("x.yaml", []byte(text))
	if err == nil || !strings.Contains(err.Error(), "x.yaml:2: handoff.restricted_topics[") ||
		!strings.Contains(err.Error(), "more than 131072 values, counting each use of an alias") {
		t.Fatalf("want the expansion refused, got %.500v", err)
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
