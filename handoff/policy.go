package handoff

import (
	"fmt"
	"math"
	"time"

	"switchboard/config"
)

// Policy decides handoffs for one effective handoff configuration. Build it
// with New when the config loads; Decide is then safe for concurrent use.
type Policy struct {
	cfg         config.Handoff
	intents     *intentClassifier
	frustration *frustrationClassifier
	topics      []*topicClassifier
	sentiment   *sentimentAnalyzer
	hours       businessHours
	stems       *stemmer
}

// Input is a conversation so far, as one call to Decide sees it.
type Input struct {
	Channel  string
	Messages []Message // oldest first; the last one is the turn to decide on
	Now      time.Time // for business hours; zero skips the check
}

// New compiles cfg into a Policy: it loads the intent model and trains one
// classifier per restricted topic.
func New(cfg config.Handoff) (*Policy, error) {
	st := &stemmer{}
	intents, err := loadIntentModel(st)
	if err != nil {
		return nil, err
	}
	frustration, err := loadFrustrationModel()
	if err != nil {
		return nil, err
	}
	hours, err := newBusinessHours(cfg.BusinessHours)
	if err != nil {
		return nil, err
	}
	p := &Policy{cfg: cfg, intents: intents, frustration: frustration, sentiment: newSentimentAnalyzer(), hours: hours, stems: st}
	for _, t := range cfg.RestrictedTopics {
		p.topics = append(p.topics, trainTopic(t, cfg.RestrictedTopics, intents, st))
	}
	return p, nil
}

// Level is the effective level on channel: the channel's override, if any.
func (p *Policy) Level(channel string) string {
	if l, ok := p.cfg.Channels[channel]; ok {
		return l
	}
	return p.cfg.Level
}

// Decide is the policy: given the conversation so far, should the latest
// turn hand the conversation to a human, and why. Customer turns are checked
// for a restricted topic, a request for a human, frustration and failed
// turns; AI turns for the AI's own decision that it cannot help.
func (p *Policy) Decide(in Input) Decision {
	level := p.Level(in.Channel)
	rules := RulesFor(level, p.cfg.Advanced)
	d := Decision{Trigger: TriggerNone, Level: level}
	if len(in.Messages) == 0 {
		return d
	}
	c := p.analyse(in.Messages, rules)
	d.Sentiment = math.Round(c.sentiment*100) / 100
	switch in.Messages[len(in.Messages)-1].Role {
	case RoleCustomer:
		d = p.decideCustomerTurn(c, rules, d)
	case RoleAI:
		d = p.decideAITurn(c, rules, d)
	}
	if d.Handoff && !in.Now.IsZero() && !p.hours.openAt(in.Now) {
		d.AfterHours, d.FollowUp = true, true
		d.Detail += "; outside business hours, a follow-up is recorded"
	}
	return d
}

func (p *Policy) decideCustomerTurn(c *analysis, rules Rules, d Decision) Decision {
	if t := c.topic; t != nil {
		d.Trigger, d.Topic, d.Reason = TriggerRestricted, t.name, ReasonRestrictedTopic
		tr := rules
		if t.level != "" {
			tr = RulesFor(t.level, p.cfg.Advanced)
		}
		d.Handoff, d.FollowUp = tr.Enabled, !tr.Enabled
		d.Detail = fmt.Sprintf("restricted topic %s (p=%.2f)", t.name, c.topicProb)
		if !tr.Enabled {
			d.Detail += "; the AI declines it and flags the conversation for follow-up"
		}
		return d
	}
	var candidates []Decision
	if c.requested {
		candidates = append(candidates, p.gate(d, c, rules, rules.HumanRequest, TriggerExplicit, ReasonCustomerRequest,
			fmt.Sprintf("the customer asked for a human (p=%.2f)", c.requestProb)))
	}
	if c.frustrated {
		fires := rules.Frustration == ModeFirstSign || (rules.Frustration == ModeSustained && c.sustained)
		candidates = append(candidates, p.gate(d, c, rules, fires, TriggerFrustration, ReasonFrustration,
			"the customer is frustrated: "+c.frustration))
	}
	if c.failedTurns >= p.cfg.FailedTurns && c.lastFailed {
		candidates = append(candidates, p.gate(d, c, rules, rules.Unproductive != ModeOff, TriggerFailedTurns, ReasonUnproductive,
			fmt.Sprintf("%d turns where the AI did not help", c.failedTurns)))
	}
	return firstHandoff(d, candidates)
}

func (p *Policy) decideAITurn(c *analysis, rules Rules, d Decision) Decision {
	last := c.msgs[len(c.msgs)-1]
	if !last.Unresolved && !last.Transfer {
		return d
	}
	if last.Transfer && Reason(last.TransferReason) == ReasonRestrictedTopic {
		// The model recognised a restricted topic the detector missed. It
		// is treated as one: to humans at once, or, at a level without
		// handoff, declined and flagged for a person to follow up. The
		// model cannot keep a restricted topic from the humans.
		d.Trigger, d.Reason = TriggerAIDecision, ReasonRestrictedTopic
		d.Handoff, d.FollowUp = rules.Enabled, !rules.Enabled
		d.Detail = "the AI recognised a restricted topic"
		if !rules.Enabled {
			d.Detail += "; the AI declines it and flags the conversation for follow-up"
		}
		return d
	}
	fires := rules.Unproductive == ModeAtOnce || (rules.Unproductive == ModeAfterAttempt && c.aiAttempts >= 2)
	detail := "the AI could not help"
	if last.Transfer {
		detail = "the AI decided to transfer"
	}
	return p.gate(d, c, rules, fires, TriggerAIDecision, aiReason(last), detail)
}

// gate applies the level's common conditions to a trigger that fired:
// nothing hands off when handoff is disabled, and a required problem
// statement must be complete first.
func (p *Policy) gate(d Decision, c *analysis, rules Rules, fires bool, t Trigger, r Reason, detail string) Decision {
	d.Trigger, d.Reason, d.Detail = t, r, detail
	switch {
	case !rules.Enabled:
		d.FollowUp = t == TriggerExplicit
		d.Detail += "; handoff is off at this level"
	case rules.ProblemStatementRequired && !c.problemStatement && (fires || t == TriggerFrustration):
		d.AskForProblemStatement = true
		d.Detail += fmt.Sprintf("; waiting for a problem statement (%d of %d words)", c.problemWords, p.cfg.ProblemStatement.MinWords)
	case fires:
		d.Handoff = true
	default:
		d.Detail += "; not enough at this level"
	}
	return d
}

func firstHandoff(d Decision, candidates []Decision) Decision {
	for _, c := range candidates {
		if c.Handoff {
			return c
		}
	}
	if len(candidates) > 0 {
		return candidates[0]
	}
	return d
}

func aiReason(m Message) Reason {
	if m.Transfer {
		switch r := Reason(m.TransferReason); r {
		case ReasonCustomerRequest, ReasonFrustration, ReasonRestrictedTopic,
			ReasonMissingKnowledge, ReasonMissingTool, ReasonUnclearInstructions:
			return r // the model saw what the policy's own detectors missed
		}
	}
	switch Reason(m.Gap) {
	case ReasonMissingKnowledge, ReasonMissingTool, ReasonUnclearInstructions:
		return Reason(m.Gap)
	}
	if m.Transfer {
		return ReasonMissingTool
	}
	return ReasonMissingKnowledge
}

// Replay runs the policy after every message of a conversation, the way the
// gateway does live, and returns the first handoff; without one, the last
// decision that noticed something, else the final decision. It is what
// `switchboard handoff simulate` shows admins.
func (p *Policy) Replay(channel string, msgs []Message, now time.Time) Decision {
	var noted, last Decision
	for i := range msgs {
		last = p.Decide(Input{Channel: channel, Messages: msgs[:i+1], Now: now})
		if last.Handoff {
			return last
		}
		if last.Trigger != TriggerNone {
			noted = last
		}
	}
	if noted.Trigger != "" {
		return noted
	}
	if last.Trigger == "" {
		last = Decision{Trigger: TriggerNone, Level: p.Level(channel)}
	}
	return last
}
