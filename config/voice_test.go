package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// withOutbound is the shipped config with its outbound_* and identity
// lines replaced by set ("key: value" each); keys not in set stay "".
func withOutbound(t *testing.T, set ...string) string {
	t.Helper()
	text := shipped(t)
	for _, kv := range set {
		key, _, _ := strings.Cut(kv, ":")
		i := strings.Index(text, "\n    "+key+": \"\"")
		if i < 0 {
			t.Fatalf("the shipped config has no empty %s", key)
		}
		end := i + 1 + strings.Index(text[i+1:], "\n")
		text = text[:i] + "\n    " + kv + text[end:]
	}
	return text
}

func TestOutboundConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  []string
		want string // "" = accepted; else the start of the only error, after file:line:
	}{
		{"shipped: none", nil, ""},
		{"password from the environment", []string{"outbound_username: switchboard", "outbound_password_env: SB_OUT"}, ""},
		{"password from a file", []string{"outbound_username: switchboard", "outbound_password_file: secrets/out"}, ""},
		{"identity with a number and parameters", []string{"identity: sip:+15550100@trunk.example.com;user=phone"}, ""},
		{"identity without a user", []string{"identity: sips:gateway.example.com:5061"}, ""},
		{"username without a password", []string{"outbound_username: switchboard"},
			"channels.voice.outbound_username: needs outbound_password_env or outbound_password_file"},
		{"password without a username", []string{"outbound_password_env: SB_OUT"},
			"channels.voice.outbound_password_env: needs outbound_username"},
		{"password file without a username", []string{"outbound_password_file: secrets/out"},
			"channels.voice.outbound_password_file: needs outbound_username"},
		{"both password sources", []string{"outbound_username: sb", "outbound_password_env: SB_OUT", "outbound_password_file: out"},
			"channels.voice.outbound_password_file: give outbound_password_env or outbound_password_file, not both"},
		{"the password itself in the file", []string{"outbound_username: sb", "outbound_password_env: hunter2!"},
			"channels.voice.outbound_password_env: names an environment variable"},
		{"a quote in the username", []string{`outbound_username: 'sb"x'`, "outbound_password_env: SB_OUT"},
			"channels.voice.outbound_username: \"sb\\\"x\" may not hold quotes"},
		{"identity not SIP", []string{"identity: tel:+15550100"},
			`channels.voice.identity: "tel:+15550100" is not a SIP URI`},
		{"identity with a display name", []string{`identity: '"Parcel" <sip:+15550100@trunk.example.com>'`},
			`channels.voice.identity: "\"Parcel\" <sip:+15550100@trunk.example.com>" is not a SIP URI`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := withOutbound(t, tc.set...)
			cfg, err := Parse("voice.yaml", []byte(text))
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused:\n%v", err)
				}
				v := cfg.Channels.Voice
				for _, kv := range tc.set {
					key, val, _ := strings.Cut(kv, ": ")
					got := map[string]string{"outbound_username": v.OutboundUsername, "outbound_password_env": v.OutboundPasswordEnv,
						"outbound_password_file": v.OutboundPasswordFile, "identity": v.Identity}[key]
					if got != val {
						t.Errorf("%s = %q, want %q", key, got, val)
					}
				}
				return
			}
			var errs Errors
			if !errors.As(err, &errs) || len(errs) != 1 {
				t.Fatalf("want one error, got %v", err)
			}
			key := strings.TrimPrefix(tc.want[:strings.Index(tc.want, ":")], "channels.voice.")
			want := "voice.yaml:" + itoa(lineOf(t, text, "    "+key+":")) + ": " + tc.want
			if !strings.HasPrefix(errs[0].Error(), want) {
				t.Errorf("error:\n%s\nwant it to start with:\n%s", errs[0], want)
			}
		})
	}
}

// The password is read at start from where the config says, and a named
// source that gives none is an error, not an unauthenticated call.
func TestOutboundPassword(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "secrets"), 0o700); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{"out": "pa ss\n", "empty": "\n"} {
		if err := os.WriteFile(filepath.Join(dir, "secrets", name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("SB_TEST_OUT_SET", "from-env")
	for _, tc := range []struct {
		name, env, file string
		want, wantErr   string
	}{
		{"none", "", "", "", ""},
		{"environment", "SB_TEST_OUT_SET", "", "from-env", ""},
		{"environment unset", "SB_TEST_OUT_UNSET", "", "", "the environment variable SB_TEST_OUT_UNSET is not set"},
		{"file relative to the config, newline dropped, spaces kept", "", "secrets/out", "pa ss", ""},
		{"empty file", "", "secrets/empty", "", "secrets/empty is empty"},
		{"missing file", "", "secrets/none", "", "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := &Config{File: filepath.Join(dir, "switchboard.yaml")}
			cfg.Channels.Voice.OutboundPasswordEnv, cfg.Channels.Voice.OutboundPasswordFile = tc.env, tc.file
			got, err := cfg.OutboundPassword()
			switch {
			case tc.wantErr == "" && (err != nil || got != tc.want):
				t.Errorf("= %q, %v; want %q", got, err, tc.want)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("= %q, %v; want an error saying %q", got, err, tc.wantErr)
			}
		})
	}
}
