package rules

import (
	"fmt"

	"switchboard/store"
)

// Change is what an agent's action writes: the conversation's new state and
// agent, and the new status of its open handoff (the newest pending or
// claimed one).
type Change struct {
	State   store.State
	Agent   string
	Handoff string // new status of the open handoff
	Claims  bool   // stamps the handoff's claimed_at
	Closes  bool   // stamps the handoff's closed_at
}

// Decide turns the current conversation and the acting agent into a Change.
// noop means the action has already happened (the holder claiming again), so
// nothing is written and the caller succeeds.
type Decide func(c store.Conversation, agent string) (ch Change, noop bool, err error)

// Claim decides agent claiming c. Claims serialise on the conversation row, so
// each later claimer sees the winner's human state and gets ErrAlreadyClaimed.
func Claim(c store.Conversation, agent string) (Change, bool, error) {
	if agent == "" {
		return Change{}, false, fmt.Errorf("claim %s without agent: %w", c.ID, store.ErrInvalid)
	}
	switch {
	case c.State == store.StatePendingHuman:
		return Change{State: store.StateHuman, Agent: agent, Handoff: store.HandoffClaimed, Claims: true}, false, nil
	case c.State == store.StateHuman && c.Agent == agent:
		return Change{}, true, nil
	case c.State == store.StateHuman:
		return Change{}, false, fmt.Errorf("claim %s: held by %q: %w", c.ID, c.Agent, store.ErrAlreadyClaimed)
	}
	return Change{}, false, fmt.Errorf("claim %s in state %s: %w", c.ID, c.State, store.ErrWrongState)
}

// Resolve decides agent resolving c. The resolving agent is kept on the
// conversation, so it shows who closed it.
func Resolve(c store.Conversation, agent string) (Change, bool, error) {
	if err := release("resolve", c, agent); err != nil {
		return Change{}, false, err
	}
	return Change{State: store.StateResolved, Agent: agent, Handoff: store.HandoffResolved, Closes: true}, false, nil
}

// ReturnToAI decides agent giving c back to the AI.
func ReturnToAI(c store.Conversation, agent string) (Change, bool, error) {
	if err := release("return to ai", c, agent); err != nil {
		return Change{}, false, err
	}
	return Change{State: store.StateAI, Agent: "", Handoff: store.HandoffReturned, Closes: true}, false, nil
}

// release is the rule Resolve and ReturnToAI share: a conversation waiting for
// an agent may be closed by anyone, one an agent holds only by that agent.
func release(action string, c store.Conversation, agent string) error {
	switch c.State {
	case store.StatePendingHuman:
		return nil
	case store.StateHuman:
		if c.Agent != agent {
			return fmt.Errorf("%s %s: held by %q, not %q: %w", action, c.ID, c.Agent, agent, store.ErrNotHolder)
		}
		return nil
	}
	return fmt.Errorf("%s %s in state %s: %w", action, c.ID, c.State, store.ErrWrongState)
}

// Request decides recording h on c. A pending handoff moves c from ai to
// pending_human and needs c in state ai; a follow-up is only a record, so it
// may be written in any state and moves nothing.
func Request(c store.Conversation, h store.Handoff) (moves bool, err error) {
	if h.Status == store.HandoffFollowUp {
		return false, nil
	}
	if c.State != store.StateAI {
		return false, fmt.Errorf("handoff for %s in state %s: %w", c.ID, c.State, store.ErrWrongState)
	}
	return true, nil
}
