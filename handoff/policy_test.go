package handoff

import (
	"path/filepath"
	"sync"
	"testing"

	"switchboard/config"
)

var (
	shippedOnce sync.Once
	shippedCfg  *config.Config
	shippedErr  error
)

// shippedHandoff is the handoff section of configs/switchboard.yaml with
// the level (and possibly more) changed by edit.
func shippedHandoff(t testing.TB, edit func(*config.Handoff)) config.Handoff {
	t.Helper()
	shippedOnce.Do(func() {
		shippedCfg, shippedErr = config.Load(filepath.Join("..", "configs", "switchboard.yaml"))
	})
	if shippedErr != nil {
		t.Fatal(shippedErr)
	}
	h := shippedCfg.Handoff
	h.Channels = map[string]string{}
	if edit != nil {
		edit(&h)
	}
	return h
}

var policies sync.Map // level -> *Policy, built once: training topics takes a moment

func policyAt(t testing.TB, level string) *Policy {
	t.Helper()
	if p, ok := policies.Load(level); ok {
		return p.(*Policy)
	}
	p, err := New(shippedHandoff(t, func(h *config.Handoff) { h.Level = level }))
	if err != nil {
		t.Fatal(err)
	}
	policies.Store(level, p)
	return p
}

func c(text string) Message  { return Message{Role: RoleCustomer, Text: text} }
func ai(text string) Message { return Message{Role: RoleAI, Text: text} }
func aiFailed(text string) Message {
	return Message{Role: RoleAI, Text: text, Unresolved: true, Gap: "missing_knowledge"}
}

const greeting = "Hi! I'm the Parcel & Pine assistant. How can I help?"

// The conversations behind each row of DESIGN.md's policy table.
var (
	explicitBare   = []Message{ai(greeting), c("can u get me a human pls")}
	explicitFull   = []Message{ai(greeting), c("get me a real person, my order 5512 arrived with a cracked mirror and the frame is split, I need a replacement")}
	frustratedOnce = []Message{ai(greeting), c("where is my sofa"), ai("Your order is on its way."),
		c("This is ridiculous!!! Three weeks and NOTHING. Worst service ever.")}
	frustratedTwice = append(append([]Message{}, frustratedOnce...), ai("I'm sorry about the wait. Standard delivery takes 3-5 business days."),
		c("That is useless. I am furious, this is a terrible company and a total joke."))
	aiFailsFirst = []Message{ai(greeting), c("do you sell garden sheds"), aiFailed("I'm sorry, I don't have an answer to that.")}
	aiFailsAgain = []Message{ai(greeting), c("do you sell garden sheds"), ai("We sell furniture, lighting and kitchenware."),
		c("ok but what about a wooden shed for my garden, about 2 by 3 metres, delivered to Leeds"), aiFailed("I'm sorry, I don't have an answer to that.")}
	restricted = []Message{ai(greeting), c("I was charged twice and want it reversed")}
)

func TestPolicyTable(t *testing.T) {
	type want struct {
		handoff, ask, followUp bool
		trigger                Trigger
	}
	tests := []struct {
		name  string
		msgs  []Message
		level string
		want  want
	}{
		// explicit request
		{"explicit/ai_only", explicitBare, "ai_only", want{followUp: true, trigger: TriggerExplicit}},
		{"explicit/quick", explicitBare, "quick", want{handoff: true, trigger: TriggerExplicit}},
		{"explicit/balanced", explicitBare, "balanced", want{handoff: true, trigger: TriggerExplicit}},
		{"explicit/ai_first asks first", explicitBare, "ai_first", want{ask: true, trigger: TriggerExplicit}},
		{"explicit/ai_first with statement", explicitFull, "ai_first", want{handoff: true, trigger: TriggerExplicit}},
		{"explicit/ai_first statement follows", append(append([]Message{}, explicitBare...),
			ai("First, could you tell me what the problem is?"), c("my oak dining table from order 7731 arrived with a deep scratch across the top")),
			"ai_first", want{handoff: true, trigger: TriggerExplicit}},
		// frustration
		{"frustration/ai_only", frustratedOnce, "ai_only", want{trigger: TriggerFrustration}},
		{"frustration/quick first sign", frustratedOnce, "quick", want{handoff: true, trigger: TriggerFrustration}},
		{"frustration/balanced once", frustratedOnce, "balanced", want{trigger: TriggerFrustration}},
		{"frustration/balanced sustained", frustratedTwice, "balanced", want{handoff: true, trigger: TriggerFrustration}},
		{"frustration/ai_first asks for the problem", frustratedTwice, "ai_first", want{ask: true, trigger: TriggerFrustration}},
		// AI decision
		{"ai/ai_only", aiFailsAgain, "ai_only", want{trigger: TriggerAIDecision}},
		{"ai/quick at once", aiFailsFirst, "quick", want{handoff: true, trigger: TriggerAIDecision}},
		{"ai/balanced first failure", aiFailsFirst, "balanced", want{trigger: TriggerAIDecision}},
		{"ai/balanced after an attempt", aiFailsAgain, "balanced", want{handoff: true, trigger: TriggerAIDecision}},
		{"ai/ai_first without statement", aiFailsFirst, "ai_first", want{ask: true, trigger: TriggerAIDecision}},
		{"ai/ai_first with statement", aiFailsAgain, "ai_first", want{handoff: true, trigger: TriggerAIDecision}},
		// restricted topic
		{"topic/ai_only declines and flags", restricted, "ai_only", want{followUp: true, trigger: TriggerRestricted}},
		{"topic/quick", restricted, "quick", want{handoff: true, trigger: TriggerRestricted}},
		{"topic/balanced", restricted, "balanced", want{handoff: true, trigger: TriggerRestricted}},
		{"topic/ai_first", restricted, "ai_first", want{handoff: true, trigger: TriggerRestricted}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := policyAt(t, tt.level).Decide(Input{Channel: "web", Messages: tt.msgs})
			got := want{d.Handoff, d.AskForProblemStatement, d.FollowUp, d.Trigger}
			if got != tt.want {
				t.Errorf("got %+v, want %+v (%s)", got, tt.want, d.Detail)
			}
		})
	}
}
