package handoff

import (
	"testing"
	"time"

	"switchboard/config"
)

// Look-alikes share words with a request for a human or with a restricted
// topic but are neither; at the quickest level they must not hand off.
func TestLookAlikesDoNotHandOff(t *testing.T) {
	p := policyAt(t, "quick")
	for _, text := range []string{
		"is a human going to review my refund?",
		"I don't want to talk to a human, just tell me where my parcel is",
		"how do I become a sales representative",
		"are you hiring customer service agents?",
		"cancel my order 4411",
		"I want to cancel the delivery for Tuesday",
		"how long do refunds take?",
		"the delivery person left it with my neighbour, thanks",
		"no need for an agent, what are your opening hours?",
	} {
		t.Run(text, func(t *testing.T) {
			d := p.Decide(Input{Channel: "web", Messages: []Message{ai(greeting), c(text)}})
			if d.Handoff {
				t.Errorf("handed off on %s: %s", d.Trigger, d.Detail)
			}
		})
	}
}

func TestManyWaysOfAskingForAHuman(t *testing.T) {
	p := policyAt(t, "balanced")
	for _, text := range []string{
		"get me a real person", "operator!", "can u get me a human pls", "I want to speak to a manager",
		"representative please", "transfer me to someone who can actually help", "HUMAN", "talk to agent",
		"is there a real person I can talk to?", "i need a reprisentative",
	} {
		t.Run(text, func(t *testing.T) {
			d := p.Decide(Input{Channel: "web", Messages: []Message{ai(greeting), c(text)}})
			if !d.Handoff || d.Trigger != TriggerExplicit {
				t.Errorf("got %+v", d)
			}
		})
	}
}

func TestFailedTurnsHandOffAsUnproductive(t *testing.T) {
	msgs := []Message{ai(greeting), c("do gift cards expire?"), ai("You can buy gift cards from £10 to £500."),
		c("that's not what I asked, do they expire?"), ai("Gift cards can be used on any product."),
		c("that still doesn't answer my question")}
	d := policyAt(t, "balanced").Replay("web", msgs, time.Time{})
	if !d.Handoff || d.Trigger != TriggerFailedTurns || d.Reason != ReasonUnproductive {
		t.Fatalf("got %+v", d)
	}
	// One complaint is not yet a pattern.
	if d := policyAt(t, "balanced").Replay("web", msgs[:4], time.Time{}); d.Handoff {
		t.Fatalf("handed off after one failed turn: %+v", d)
	}
}

func TestChannelOverrideAppliesToVoice(t *testing.T) {
	p, err := New(shippedHandoff(t, func(h *config.Handoff) { h.Level = "balanced"; h.Channels = map[string]string{"voice": "quick"} }))
	if err != nil {
		t.Fatal(err)
	}
	if d := p.Decide(Input{Channel: "voice", Messages: frustratedOnce}); !d.Handoff || d.Level != "quick" {
		t.Errorf("voice should use its quick override: %+v", d)
	}
	if d := p.Decide(Input{Channel: "web", Messages: frustratedOnce}); d.Handoff {
		t.Errorf("web should stay balanced: %+v", d)
	}
}

func TestTopicLevelOverride(t *testing.T) {
	p, err := New(shippedHandoff(t, func(h *config.Handoff) {
		h.Level = "balanced"
		h.RestrictedTopics = append([]config.Topic{}, h.RestrictedTopics...)
		h.RestrictedTopics[0].Level = "ai_only" // billing_disputes: decline and follow up
	}))
	if err != nil {
		t.Fatal(err)
	}
	d := p.Decide(Input{Channel: "web", Messages: restricted})
	if d.Handoff || !d.FollowUp || d.Topic != "billing_disputes" {
		t.Errorf("got %+v", d)
	}
}

func TestAdvancedModeSetsTriggersOneByOne(t *testing.T) {
	tests := []struct {
		name string
		adv  config.Advanced
		msgs []Message
		want bool
	}{
		{"human request off", config.Advanced{Enabled: true, Frustration: "off", Unproductive: "off"}, explicitBare, false},
		{"human request on", config.Advanced{Enabled: true, HumanRequest: true, Frustration: "off", Unproductive: "off"}, explicitBare, true},
		{"frustration first sign", config.Advanced{Enabled: true, Frustration: "first_sign", Unproductive: "off"}, frustratedOnce, true},
		{"frustration sustained, once", config.Advanced{Enabled: true, Frustration: "sustained", Unproductive: "off"}, frustratedOnce, false},
		{"unproductive at once", config.Advanced{Enabled: true, Frustration: "off", Unproductive: "at_once"}, aiFailsFirst, true},
		{"unproductive off", config.Advanced{Enabled: true, Frustration: "off", Unproductive: "off"}, aiFailsAgain, false},
		{"problem statement required", config.Advanced{Enabled: true, HumanRequest: true, Frustration: "off", Unproductive: "off", ProblemStatementRequired: true}, explicitBare, false},
		{"disabled", config.Advanced{Enabled: false, HumanRequest: true, Frustration: "first_sign", Unproductive: "at_once"}, explicitBare, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := New(shippedHandoff(t, func(h *config.Handoff) { h.Level = "advanced"; h.Advanced = tt.adv }))
			if err != nil {
				t.Fatal(err)
			}
			if d := p.Decide(Input{Channel: "web", Messages: tt.msgs}); d.Handoff != tt.want {
				t.Errorf("handoff %v, want %v: %+v", d.Handoff, tt.want, d)
			}
		})
	}
}

// Presets are shorthands for the advanced mode: each level's Rules filled
// in by hand decide the same as the level.
func TestPresetsEqualTheirAdvancedForm(t *testing.T) {
	for _, level := range config.Levels {
		r := RulesFor(level, config.Advanced{})
		adv := config.Advanced{Enabled: r.Enabled, HumanRequest: r.HumanRequest, Frustration: string(r.Frustration),
			Unproductive: string(r.Unproductive), ProblemStatementRequired: r.ProblemStatementRequired}
		if got := RulesFor("advanced", adv); got != r {
			t.Errorf("%s: advanced form %+v differs from %+v", level, got, r)
		}
	}
}

func TestOutsideBusinessHoursRecordsFollowUp(t *testing.T) {
	p, err := New(shippedHandoff(t, func(h *config.Handoff) {
		h.Level = "balanced"
		h.BusinessHours = config.BusinessHours{Timezone: "Europe/London", Days: []string{"mon", "tue", "wed", "thu", "fri"}, Open: "09:00", Close: "17:00"}
	}))
	if err != nil {
		t.Fatal(err)
	}
	saturday := time.Date(2026, 11, 28, 11, 0, 0, 0, time.UTC)
	d := p.Decide(Input{Channel: "web", Messages: explicitBare, Now: saturday})
	if !d.Handoff || !d.AfterHours || !d.FollowUp {
		t.Errorf("saturday: %+v", d)
	}
	wednesday := time.Date(2026, 11, 25, 11, 0, 0, 0, time.UTC)
	if d := p.Decide(Input{Channel: "web", Messages: explicitBare, Now: wednesday}); d.AfterHours {
		t.Errorf("wednesday 11:00 is open: %+v", d)
	}
}

func TestDecisionCarriesSentiment(t *testing.T) {
	d := policyAt(t, "quick").Decide(Input{Channel: "web", Messages: frustratedOnce})
	if d.Sentiment >= 0 || SentimentLabel(d.Sentiment) != "negative" {
		t.Errorf("sentiment %v for an angry message", d.Sentiment)
	}
}
