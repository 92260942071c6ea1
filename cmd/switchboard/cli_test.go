package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

const shippedConfig = "../../configs/switchboard.yaml"

func TestCheckConfigAcceptsTheShippedFile(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"check-config", shippedConfig}, nil, &out, &errOut); err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	if !strings.Contains(out.String(), "ok (level balanced, 3 restricted topics, store sqlite)") {
		t.Errorf("output: %q", out.String())
	}
	if errOut.Len() != 0 {
		t.Errorf("warnings or errors for the shipped file:\n%s", errOut.String())
	}
}

// TestCheckConfigWarnsOfMovedSpeechKeys: a file that still sets speech
// under channels.voice passes, with a warning per key naming where it
// goes now.
func TestCheckConfigWarnsOfMovedSpeechKeys(t *testing.T) {
	b, err := os.ReadFile(shippedConfig)
	if err != nil {
		t.Fatal(err)
	}
	const stt, tts = "stt: {kind: pocketsphinx, max_parallel: 0}", "tts: {kind: flite, voice: slt}"
	text := strings.Replace(string(b), "\n  "+stt, "\n", 1)
	text = strings.Replace(text, "\n  "+tts, "\n", 1)
	text = strings.Replace(text, "\n    outbound: ", "\n    "+stt+"\n    "+tts+"\n    outbound: ", 1)
	path := filepath.Join(t.TempDir(), "old.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"check-config", path}, nil, &out, &errOut); err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	if !strings.Contains(out.String(), ": ok (") {
		t.Errorf("output: %q", out.String())
	}
	got := strings.Split(strings.TrimSpace(errOut.String()), "\n")
	want := []string{
		fmt.Sprintf("warning: %s:%d: channels.voice.stt: deprecated: move it to speech.stt", path, lineOf(text, "    "+stt)),
		fmt.Sprintf("warning: %s:%d: channels.voice.tts: deprecated: move it to speech.tts", path, lineOf(text, "    "+tts)),
	}
	if len(got) != len(want) {
		t.Fatalf("want %d lines, got:\n%s", len(want), errOut.String())
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("line %d = %q\nwant %q...", i+1, got[i], want[i])
		}
	}
}

// TestCheckConfigPrintsEveryError: an unknown key and bad values elsewhere
// in the file are all reported by one run, in file order, each as
// file:line:key.
func TestCheckConfigPrintsEveryError(t *testing.T) {
	b, err := os.ReadFile(shippedConfig)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(b), "data_dir: ../data", "data_dir: ../data\nbogus: 1", 1)
	text = strings.Replace(text, "level: balanced", "level: fast", 1)
	text = strings.Replace(text, "failed_turns: 2", "failed_turns: two", 1)
	path := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	err = run(context.Background(), []string{"check-config", path}, nil, &out, &errOut)
	if !errors.Is(err, errInvalid) || !strings.Contains(err.Error(), "3 error(s)") {
		t.Fatalf("want errInvalid with 3 errors, got %v", err)
	}
	got := strings.Split(strings.TrimSpace(errOut.String()), "\n")
	want := []string{
		fmt.Sprintf("%s:%d: bogus: unknown key", path, lineOf(text, "bogus: 1")),
		fmt.Sprintf("%s:%d: handoff.level: \"fast\" is not one of", path, lineOf(text, "level: fast")),
		fmt.Sprintf("%s:%d: handoff.failed_turns: \"two\" is not a valid whole number", path, lineOf(text, "failed_turns: two")),
	}
	if len(got) != len(want) {
		t.Fatalf("want %d lines, got:\n%s", len(want), errOut.String())
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("line %d = %q\nwant %q...", i+1, got[i], want[i])
		}
	}
}

// The outbound password's source is checked where the check runs: a
// missing one is a warning, since the file itself is fine.
func TestCheckConfigWarnsOfAMissingOutboundPassword(t *testing.T) {
	b, err := os.ReadFile(shippedConfig)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(b), `outbound_username: ""`, "outbound_username: switchboard", 1)
	text = strings.Replace(text, `outbound_password_env: ""`, "outbound_password_env: SB_CHECK_OUTBOUND_PASSWORD", 1)
	path := filepath.Join(t.TempDir(), "outbound.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, env, warning string
	}{
		{"unset", "", "warning: channels.voice.outbound_password_env: the environment variable SB_CHECK_OUTBOUND_PASSWORD is not set"},
		{"set", "s3cret", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("SB_CHECK_OUTBOUND_PASSWORD", tc.env)
			var out, errOut bytes.Buffer
			if err := run(context.Background(), []string{"check-config", path}, nil, &out, &errOut); err != nil {
				t.Fatalf("%v\n%s", err, errOut.String())
			}
			if !strings.Contains(out.String(), ": ok (") {
				t.Errorf("output: %q", out.String())
			}
			if got := errOut.String(); tc.warning == "" && got != "" || !strings.Contains(got, tc.warning) {
				t.Errorf("stderr %q, want %q", got, tc.warning)
			}
			if strings.Contains(errOut.String(), "s3cret") {
				t.Error("the password was printed")
			}
		})
	}
}

func lineOf(text, s string) int { return strings.Count(text[:strings.Index(text, s)], "\n") + 1 }

// TestSimulateGolden replays the sample conversations at each level; the
// output is what README shows admins.
func TestSimulateGolden(t *testing.T) {
	for _, level := range []string{"ai_only", "quick", "balanced", "ai_first"} {
		t.Run(level, func(t *testing.T) {
			in, err := os.Open(filepath.Join("testdata", "simulate.jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			defer in.Close()
			var out, errOut bytes.Buffer
			if err := run(context.Background(), []string{"handoff", "simulate", "--config", shippedConfig, "--level", level}, in, &out, &errOut); err != nil {
				t.Fatalf("%v\n%s", err, errOut.String())
			}
			golden := filepath.Join("testdata", "simulate."+level+".golden")
			if *update {
				if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out.Bytes(), want) {
				t.Errorf("output differs from %s (run with -update after checking):\n%s", golden, out.String())
			}
		})
	}
}

func TestSimulateReportsBadLinesAndKeepsGoing(t *testing.T) {
	in := strings.NewReader(`{"id":"ok","messages":[{"role":"customer","text":"operator!"}]}
{"id":"bad","messages":[{"role":"robot","text":"hi"}]}
not json
{"id":"ok2","messages":[{"role":"customer","text":"hello"}],"extra":1}
{"id":"ok3","messages":[{"role":"customer","text":"where is my order"}]}
`)
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"handoff", "simulate", "--config", shippedConfig}, in, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "3 bad line(s)") {
		t.Fatalf("want 3 bad lines, got %v", err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 5 {
		t.Fatalf("want one answer per line, got %d:\n%s", len(lines), out.String())
	}
	if !strings.Contains(lines[0], `"handoff":true`) || !strings.Contains(lines[1], `role \"robot\"`) ||
		!strings.Contains(lines[2], `"error":"line 3`) || !strings.Contains(lines[3], `unknown field`) || !strings.Contains(lines[4], `"id":"ok3"`) {
		t.Errorf("unexpected answers:\n%s", out.String())
	}
}

func TestUnknownCommandAndBadLevel(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"frobnicate"}, nil, &out, &errOut); !errors.Is(err, errUsage) {
		t.Errorf("unknown command: %v", err)
	}
	err := run(context.Background(), []string{"handoff", "simulate", "--config", shippedConfig, "--level", "eager"}, strings.NewReader(""), &out, &errOut)
	if !errors.Is(err, errUsage) {
		t.Errorf("bad level: %v", err)
	}
}
