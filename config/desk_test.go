package config

import (
	"testing"
	"time"
)

// agents is an edit that replaces the shipped empty agents list with items,
// one flow mapping a line.
func agents(items ...string) edit {
	text := "agents:\n"
	for _, it := range items {
		text += "  - " + it + "\n"
	}
	return edit{"agents: []\n", text}
}

func TestAgentsConfigRefusesAmbiguousAgents(t *testing.T) {
	tests := []struct {
		name  string
		edits []edit
		want  []located
	}{
		{"missing name",
			[]edit{agents("{token_env: SWITCHBOARD_TOKEN_A}")},
			[]located{{"{token_env: SWITCHBOARD_TOKEN_A}", "agents[0].name: is required"}}},
		{"two without names are not also the same agent",
			[]edit{agents("{name: ' ', token_env: A}", "{token_env: B}")},
			[]located{{"{name: ' '", "agents[0].name: is required"}, {"{token_env: B}", "agents[1].name: is required"}}},
		{"same name in another case",
			[]edit{agents("{name: Sam, token_env: A}", "{name: sam, token_env: B}")},
			[]located{{"{name: sam", `agents[1].name: agents[0] already has id "sam"`}}},
		{"same id",
			[]edit{agents("{name: Sam, id: desk1, token_env: A}", "{name: Alex, id: desk1, token_env: B}")},
			[]located{{"{name: Alex", `agents[1].id: agents[0] already has id "desk1"`}}},
		{"id that another's name makes",
			[]edit{agents("{name: Sam Lee, token_env: A}", "{name: Sam, id: sam-lee, token_env: B}")},
			[]located{{"{name: Sam,", `agents[1].id: agents[0] already has id "sam-lee"`}}},
		{"no token source",
			[]edit{agents("{name: Sam}")},
			[]located{{"{name: Sam}", "agents[0].token_env: give token_env or token_file"}}},
		{"both token sources",
			[]edit{agents("{name: Sam, token_env: A, token_file: sam.token}")},
			[]located{{"{name: Sam", "agents[0].token_file: give token_env or token_file, not both"}}},
		{"token in place of a variable name",
			[]edit{agents("{name: Sam, token_env: 'SWITCHBOARD-TOKEN'}")},
			[]located{{"{name: Sam", `agents[0].token_env: "SWITCHBOARD-TOKEN" is not an environment variable name`}}},
		{"variable with a dollar",
			[]edit{agents("{name: Sam, token_env: $SAM}")},
			[]located{{"{name: Sam", `agents[0].token_env: "$SAM" is not an environment variable name`}}},
		{"same token_env",
			[]edit{agents("{name: Sam, token_env: DESK_TOKEN}", "{name: Alex, token_env: DESK_TOKEN}")},
			[]located{{"{name: Alex", `agents[1].token_env: agents[0] already has token_env "DESK_TOKEN"`}}},
		{"same token_file written two ways",
			[]edit{agents("{name: Sam, token_file: tokens/desk}", "{name: Alex, token_env: A}", "{name: Kim, token_file: ./tokens//desk}")},
			[]located{{"{name: Kim", `agents[2].token_file: agents[0] already has token_file "tokens/desk"`}}},
		{"same slack user",
			[]edit{agents("{name: Sam, token_env: A, slack_user_id: U1}", "{name: Alex, token_env: B, slack_user_id: U1}")},
			[]located{{"{name: Alex", `agents[1].slack_user_id: agents[0] already has slack_user_id "U1"`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantErrors(t, tt.edits, tt.want) })
	}
}

func TestAgentsConfigAcceptsDistinctAgents(t *testing.T) {
	text := edited(t, []edit{agents(
		"{name: Sam Lee, token_env: SWITCHBOARD_TOKEN_SAM, slack_user_id: U1}",
		"{name: Alex, id: alex-2, token_file: /run/secrets/alex-token, slack_user_id: U2}",
		"{name: Kim, token_file: kim-token}",
	)})
	cfg, err := Parse("ok.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, a := range cfg.Agents {
		ids = append(ids, a.AgentID())
	}
	if len(ids) != 3 || ids[0] != "sam-lee" || ids[1] != "alex-2" || ids[2] != "kim" {
		t.Errorf("agent ids = %q", ids)
	}
}

func TestDeliveryConfigBounds(t *testing.T) {
	tests := []struct {
		old, new string
		want     string // "" when the value is accepted
	}{
		{"max_per_client: 64", "max_per_client: 0", ""}, // no cap: behind a load balancer
		{"max_per_client: 64", "max_per_client: -1", "listen.max_per_client: -1 must be between 0 (no cap) and 1000000"},
		{"workers: 8", "workers: 0", "delivery.workers: 0 must be between 1 and 256"},
		{"workers: 8", "workers: 256", ""},
		{"workers: 8", "workers: 257", "delivery.workers: 257 must be between 1 and 256"},
		{"batch: 64", "batch: 0", "delivery.batch: 0 must be between 1 and 1000"},
		{"batch: 64", "batch: 1000", ""},
		{"batch: 64", "batch: 1001", "delivery.batch: 1001 must be between 1 and 1000"},
		{"lease: 30s", "lease: 999ms", "delivery.lease: 999ms must be between 1s and 1h0m0s"},
		{"lease: 30s", "lease: 1h", ""},
		{"lease: 30s", "lease: 61m", "delivery.lease: 1h1m0s must be between 1s and 1h0m0s"},
		{"poll_interval: 1s", "poll_interval: 9ms", "delivery.poll_interval: 9ms must be between 10ms and 1m0s"},
		{"poll_interval: 1s", "poll_interval: 10ms", ""},
		{"poll_interval: 1s", "poll_interval: 2m", "delivery.poll_interval: 2m0s must be between 10ms and 1m0s"},
		{"min_backoff: 1s", "min_backoff: 0s", "delivery.min_backoff: 0s must be between 10ms and 1h0m0s"},
		{"min_backoff: 1s", "min_backoff: 5m", ""}, // equal to max_backoff
		{"min_backoff: 1s", "min_backoff: 6m", "delivery.max_backoff: 5m0s is below min_backoff (6m0s)"},
		{"max_backoff: 5m", "max_backoff: 500ms", "delivery.max_backoff: 500ms is below min_backoff (1s)"},
		{"max_backoff: 5m", "max_backoff: 24h", ""},
		{"max_backoff: 5m", "max_backoff: 25h", "delivery.max_backoff: 25h0m0s must be between 10ms and 24h0m0s"},
		{"max_age: 24h", "max_age: 59s", "delivery.max_age: 59s must be between 1m0s and 720h0m0s"},
		{"max_age: 24h", "max_age: 720h", ""},
		{"max_age: 24h", "max_age: 721h", "delivery.max_age: 721h0m0s must be between 1m0s and 720h0m0s"},
	}
	for _, tt := range tests {
		t.Run(tt.new, func(t *testing.T) {
			e := []edit{{tt.old, tt.new}}
			if tt.want != "" {
				anchor := tt.new
				if tt.new == "min_backoff: 6m" {
					anchor = "max_backoff:" // the maximum is what must stay above the minimum
				}
				wantErrors(t, e, []located{{anchor, tt.want}})
				return
			}
			if _, err := Parse("ok.yaml", []byte(edited(t, e))); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestDeliveryConfigDecodes(t *testing.T) {
	cfg, err := Parse("ok.yaml", []byte(shipped(t)))
	if err != nil {
		t.Fatal(err)
	}
	want := Delivery{Workers: 8, Batch: 64, Lease: 30 * time.Second, PollInterval: time.Second,
		MinBackoff: time.Second, MaxBackoff: 5 * time.Minute, MaxAge: 24 * time.Hour}
	if cfg.Delivery != want {
		t.Errorf("delivery = %+v, want %+v", cfg.Delivery, want)
	}
}

func TestWhenNoAgentConfig(t *testing.T) {
	for _, v := range []string{"wait", "follow_up"} {
		text := edited(t, []edit{{"when_no_agent: wait", "when_no_agent: " + v}})
		cfg, err := Parse("ok.yaml", []byte(text))
		if err != nil || cfg.Handoff.WhenNoAgent != v {
			t.Errorf("when_no_agent: %s: %v", v, err)
		}
	}
	tests := []struct {
		name  string
		edits []edit
		want  []located
	}{
		{"unknown choice", []edit{{"when_no_agent: wait", "when_no_agent: queue"}},
			[]located{{"when_no_agent: queue", `handoff.when_no_agent: "queue" is not one of wait, follow_up`}}},
		{"empty", []edit{{"when_no_agent: wait", `when_no_agent: ""`}},
			[]located{{"when_no_agent:", `handoff.when_no_agent: "" is not one of wait, follow_up`}}},
		{"left out", []edit{{"when_no_agent: wait\n", ""}},
			[]located{{"handoff:\n  # How eagerly", `handoff.when_no_agent: "" is not one of`}}},
		{"no message for the customer", []edit{{"no_agent: I've passed", "no_agent: ''\n    x_no_agent: I've passed"}},
			[]located{{"no_agent: ''", "handoff.messages.no_agent: is required"}, {"x_no_agent:", "handoff.messages.x_no_agent: unknown key"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantErrors(t, tt.edits, tt.want) })
	}
}

func TestPIIConfigPatterns(t *testing.T) {
	text := edited(t, []edit{{"patterns: []", `patterns: ['\b[A-Z]{2}\d{6}[A-Z]\b', 'ORD-\d+']`}})
	cfg, err := Parse("ok.yaml", []byte(text))
	if err != nil || len(cfg.Handoff.PII.Patterns) != 2 || !cfg.Handoff.PII.MaskCards {
		t.Fatalf("pii = %+v, %v", cfg.Handoff.PII, err)
	}
	tests := []struct {
		name, patterns string
		want           []located
	}{
		{"not a regexp", `patterns: ['ok\d+', '[A-Z']`,
			[]located{{"patterns: [", "handoff.pii.patterns[1]: not a regular expression: error parsing regexp: missing closing ]"}}},
		{"perl syntax RE2 lacks", `patterns: ['(?<=card )\d+']`,
			[]located{{"patterns: [", "handoff.pii.patterns[0]: not a regular expression:"}}},
		{"empty", `patterns: ['']`,
			[]located{{"patterns: [", "handoff.pii.patterns[0]: matches empty text"}}},
		{"matches nothing too", `patterns: ['\d*']`,
			[]located{{"patterns: [", "handoff.pii.patterns[0]: matches empty text"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantErrors(t, []edit{{"patterns: []", tt.patterns}}, tt.want)
		})
	}
}

func TestWebhookConfig(t *testing.T) {
	text := edited(t, []edit{{`url: ""`, `url: https://helpdesk.example.com/hooks/sb`},
		{`secret_env: ""`, `secret_env: SWITCHBOARD_WEBHOOK_SECRET`}})
	cfg, err := Parse("ok.yaml", []byte(text))
	want := Webhook{URL: "https://helpdesk.example.com/hooks/sb", SecretEnv: "SWITCHBOARD_WEBHOOK_SECRET"}
	if err != nil || cfg.Handoff.Webhook != want {
		t.Fatalf("webhook = %+v, %v", cfg.Handoff.Webhook, err)
	}
	shipped, err := Parse("ok.yaml", []byte(shipped(t)))
	if err != nil || shipped.Handoff.Webhook != (Webhook{}) {
		t.Fatalf("shipped webhook = %+v, %v; want off", shipped.Handoff.Webhook, err)
	}
	tests := []struct {
		name string
		e    edit
		want located
	}{
		{"not a URL", edit{`url: ""`, `url: helpdesk.example.com/hooks`},
			located{"url: helpdesk", "handoff.webhook.url: is not an http(s) URL"}},
		{"another scheme", edit{`url: ""`, `url: ftp://helpdesk.example.com/`},
			located{"url: ftp", "handoff.webhook.url: is not an http(s) URL"}},
		{"no host", edit{`url: ""`, `url: "https:///hooks"`},
			located{"url: \"https", "handoff.webhook.url: is not an http(s) URL"}},
		{"secret in the file", edit{`secret_env: ""`, `secret_env: "s3cr3t value"`},
			located{"secret_env: \"s3cr3t", "handoff.webhook.secret_env: names an environment variable"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantErrors(t, []edit{tt.e}, []located{tt.want}) })
	}
}
