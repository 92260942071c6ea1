package handoff

import "switchboard/config"

// Mode says when a trigger hands off.
type Mode string

// Modes for frustration (off, first_sign, sustained) and for the AI's
// failures (off, at_once, after_attempt).
const (
	ModeOff          Mode = "off"
	ModeFirstSign    Mode = "first_sign"
	ModeSustained    Mode = "sustained"
	ModeAtOnce       Mode = "at_once"
	ModeAfterAttempt Mode = "after_attempt"
)

// Rules is the policy's switchboard of triggers. The four levels are
// shorthands for it; the config's advanced mode fills it directly.
type Rules struct {
	Enabled                  bool
	HumanRequest             bool
	Frustration              Mode
	Unproductive             Mode
	ProblemStatementRequired bool
}

// RulesFor turns a level into Rules. adv is used for level "advanced".
func RulesFor(level string, adv config.Advanced) Rules {
	switch level {
	case "quick":
		return Rules{Enabled: true, HumanRequest: true, Frustration: ModeFirstSign, Unproductive: ModeAtOnce}
	case "balanced":
		return Rules{Enabled: true, HumanRequest: true, Frustration: ModeSustained, Unproductive: ModeAfterAttempt}
	case "ai_first":
		return Rules{Enabled: true, HumanRequest: true, Frustration: ModeOff, Unproductive: ModeAtOnce, ProblemStatementRequired: true}
	case "advanced":
		return Rules{
			Enabled: adv.Enabled, HumanRequest: adv.HumanRequest, Frustration: Mode(adv.Frustration),
			Unproductive: Mode(adv.Unproductive), ProblemStatementRequired: adv.ProblemStatementRequired,
		}
	default: // ai_only
		return Rules{Frustration: ModeOff, Unproductive: ModeOff}
	}
}
