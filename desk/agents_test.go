package desk

import (
	"io/fs"
	"strings"
	"testing"

	"switchboard/config"
)

type fakeEnv map[string]string

func (e fakeEnv) get(k string) string { return e[k] }

func sources(env fakeEnv, files map[string]string) Sources {
	return Sources{
		Getenv: env.get,
		ReadFile: func(p string) ([]byte, error) {
			if v, ok := files[p]; ok {
				return []byte(v), nil
			}
			return nil, fs.ErrNotExist
		},
		ResolvePath: func(p string) string { return "/etc/sb/" + p },
	}
}

const (
	tokSam  = "sam-token-0123456789"
	tokAlex = "alex-token-0123456789"
)

func TestLoadAgents(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cfg     []config.Agent
		env     fakeEnv
		files   map[string]string
		single  string
		wantErr string
		want    map[string]Agent // token -> agent
	}{
		{name: "from env and file",
			cfg:   []config.Agent{{Name: "Sam", TokenEnv: "SAM"}, {Name: "Alex Kim", TokenFile: "alex"}},
			env:   fakeEnv{"SAM": tokSam},
			files: map[string]string{"/etc/sb/alex": tokAlex + "\n"},
			want:  map[string]Agent{tokSam: {ID: "sam", Name: "Sam"}, tokAlex: {ID: "alex-kim", Name: "Alex Kim"}}},
		{name: "env unset", cfg: []config.Agent{{Name: "Sam", TokenEnv: "SAM"}}, wantErr: "SAM is not set"},
		{name: "file missing", cfg: []config.Agent{{Name: "Sam", TokenFile: "nope"}}, wantErr: "token file"},
		{name: "short token", cfg: []config.Agent{{Name: "Sam", TokenEnv: "SAM"}}, env: fakeEnv{"SAM": "short"},
			wantErr: "shorter than 16"},
		{name: "same token twice",
			cfg: []config.Agent{{Name: "Sam", TokenEnv: "SAM"}, {Name: "Alex", TokenEnv: "ALEX"}},
			env: fakeEnv{"SAM": tokSam, "ALEX": tokSam}, wantErr: "same token"},
		{name: "config wins over the variables",
			cfg: []config.Agent{{Name: "Sam", TokenEnv: "SAM"}}, single: tokAlex,
			env:  fakeEnv{"SAM": tokSam, "SWITCHBOARD_AGENT_TOKENS": "alex:" + tokAlex},
			want: map[string]Agent{tokSam: {ID: "sam", Name: "Sam"}}},
		{name: "token list", env: fakeEnv{"SWITCHBOARD_AGENT_TOKENS": "sam:" + tokSam + ", alex:" + tokAlex},
			want: map[string]Agent{tokSam: {ID: "sam", Name: "Sam"}, tokAlex: {ID: "alex", Name: "Alex"}}},
		{name: "bad token list", env: fakeEnv{"SWITCHBOARD_AGENT_TOKENS": "sam"}, wantErr: "not name:token"},
		{name: "single token", single: tokSam,
			want: map[string]Agent{tokSam: {ID: "agent", Name: DefaultAgentName}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := LoadAgents(tc.cfg, sources(tc.env, tc.files), tc.single)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one saying %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if a.Len() != len(tc.want) {
				t.Errorf("%d agents, want %d", a.Len(), len(tc.want))
			}
			for tok, want := range tc.want {
				if got, ok := a.Authenticate(tok); !ok || got != want {
					t.Errorf("Authenticate(%s) = %+v, %v; want %+v", tok, got, ok, want)
				}
			}
			for _, bad := range []string{"", "nope", tokSam + "x", strings.ToUpper(tokSam)} {
				if got, ok := a.Authenticate(bad); ok {
					t.Errorf("Authenticate(%q) = %+v, want refused", bad, got)
				}
			}
		})
	}
}

func TestAgentNames(t *testing.T) {
	a, err := LoadAgents([]config.Agent{{Name: "Sam Lee", TokenEnv: "SAM"}}, sources(fakeEnv{"SAM": tokSam}, nil), "")
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]string{"sam-lee": "Sam Lee", "ghost": "Ghost", "": DefaultAgentName} {
		if got := a.Name(id); got != want {
			t.Errorf("Name(%q) = %q, want %q", id, got, want)
		}
	}
}
