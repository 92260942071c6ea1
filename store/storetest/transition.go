package storetest

import (
	"fmt"
	"testing"
	"time"

	"switchboard/store"
)

// act runs one agent action by name, so the table below can list them.
func act(t *testing.T, s store.Store, action string, id store.ConversationID, agent string) error {
	switch action {
	case "claim":
		return s.Claim(t.Context(), id, agent)
	case "resolve":
		return s.Resolve(t.Context(), id, agent)
	case "return":
		return s.ReturnToAI(t.Context(), id, agent)
	}
	panic("unknown action " + action)
}

// from builds a conversation in a named starting point of the state machine.
func from(t *testing.T, s store.Store, start string) store.ConversationID {
	t.Helper()
	if start == "unknown" {
		return "no-such-conversation"
	}
	if start == "ai" {
		return create(t, s, store.Conversation{}).ID
	}
	id := pending(t, s).ID
	if start == "pending_human" {
		return id
	}
	checkErr(t, "Claim", s.Claim(t.Context(), id, "alice"), nil)
	if start == "held by alice" {
		return id
	}
	checkErr(t, "Resolve", s.Resolve(t.Context(), id, "alice"), nil)
	return id // "resolved"
}

type transitionCase struct {
	from, action, agent string
	err                 error
	state               store.State // and, when err is nil:
	holder              string      // the conversation's Agent afterwards
	status              string      // the handoff's status and agent afterwards
	handoffAgent        string
	claimed, closed     bool // whether the handoff's ClaimedAt and ClosedAt are set
}

// transitionCases is the state machine as a table.
func transitionCases() []transitionCase {
	return []transitionCase{
		{"pending_human", "claim", "bob", nil, store.StateHuman, "bob", store.HandoffClaimed, "bob", true, false},
		{"held by alice", "claim", "alice", nil, store.StateHuman, "alice", store.HandoffClaimed, "alice", true, false},
		{"held by alice", "claim", "bob", store.ErrAlreadyClaimed, "", "", "", "", false, false},
		{"pending_human", "claim", "", store.ErrInvalid, "", "", "", "", false, false},
		{"ai", "claim", "bob", store.ErrWrongState, "", "", "", "", false, false},
		{"resolved", "claim", "alice", store.ErrWrongState, "", "", "", "", false, false},
		{"unknown", "claim", "bob", store.ErrNotFound, "", "", "", "", false, false},

		{"pending_human", "resolve", "bob", nil, store.StateResolved, "bob", store.HandoffResolved, "bob", false, true},
		{"held by alice", "resolve", "alice", nil, store.StateResolved, "alice", store.HandoffResolved, "alice", true, true},
		{"held by alice", "resolve", "bob", store.ErrNotHolder, "", "", "", "", false, false},
		{"ai", "resolve", "bob", store.ErrWrongState, "", "", "", "", false, false},
		{"resolved", "resolve", "alice", store.ErrWrongState, "", "", "", "", false, false},
		{"unknown", "resolve", "bob", store.ErrNotFound, "", "", "", "", false, false},

		{"pending_human", "return", "bob", nil, store.StateAI, "", store.HandoffReturned, "bob", false, true},
		{"held by alice", "return", "alice", nil, store.StateAI, "", store.HandoffReturned, "alice", true, true},
		{"held by alice", "return", "bob", store.ErrNotHolder, "", "", "", "", false, false},
		{"ai", "return", "bob", store.ErrWrongState, "", "", "", "", false, false},
		{"resolved", "return", "alice", store.ErrWrongState, "", "", "", "", false, false},
		{"unknown", "return", "bob", store.ErrNotFound, "", "", "", "", false, false},
	}
}

func testTransitions(t *testing.T, open opener) {
	s := open(t)
	for _, tc := range transitionCases() {
		t.Run(fmt.Sprintf("%s %s by %q", tc.action, tc.from, tc.agent), func(t *testing.T) {
			id := from(t, s, tc.from)
			var before store.Conversation
			var beforeHs []store.Handoff
			if tc.from != "unknown" {
				before, beforeHs = get(t, s, id), handoffs(t, s, id)
			}
			start := time.Now()
			err := act(t, s, tc.action, id, tc.agent)
			checkErr(t, tc.action, err, tc.err)
			switch {
			case tc.from == "unknown":
			case tc.err != nil:
				checkUnchanged(t, s, before, beforeHs)
			default:
				checkTransition(t, s, id, tc, start)
			}
		})
	}
	t.Run("RoundTrip", func(t *testing.T) { testRoundTrip(t, s) })
}

func checkUnchanged(t *testing.T, s store.Store, before store.Conversation, beforeHs []store.Handoff) {
	t.Helper()
	if got := get(t, s, before.ID); !sameConversation(got, before) {
		t.Errorf("refused action changed the conversation from %+v to %+v", before, got)
	}
	hs := handoffs(t, s, before.ID)
	for i := range hs {
		if i >= len(beforeHs) || !sameHandoff(hs[i], beforeHs[i]) {
			t.Errorf("refused action changed handoffs from %+v to %+v", beforeHs, hs)
			return
		}
	}
}

func checkTransition(t *testing.T, s store.Store, id store.ConversationID, tc transitionCase, start time.Time) {
	t.Helper()
	c := get(t, s, id)
	if c.State != tc.state || c.Agent != tc.holder {
		t.Errorf("conversation = state %s agent %q, want %s %q", c.State, c.Agent, tc.state, tc.holder)
	}
	hs := handoffs(t, s, id)
	h := hs[len(hs)-1]
	if h.Status != tc.status || h.Agent != tc.handoffAgent {
		t.Errorf("handoff = status %s agent %q, want %s %q", h.Status, h.Agent, tc.status, tc.handoffAgent)
	}
	if (h.ClaimedAt != nil) != tc.claimed || (h.ClosedAt != nil) != tc.closed {
		t.Errorf("handoff ClaimedAt %v ClosedAt %v, want set: %v %v", h.ClaimedAt, h.ClosedAt, tc.claimed, tc.closed)
	}
	if h.ClosedAt != nil {
		recent(t, "handoff ClosedAt", *h.ClosedAt, start)
	}
	if h.ClaimedAt != nil && tc.from == "pending_human" {
		recent(t, "handoff ClaimedAt", *h.ClaimedAt, start)
	}
}

// testRoundTrip takes one conversation around the whole cycle twice: only the
// open handoff moves, earlier ones keep their outcome.
func testRoundTrip(t *testing.T, s store.Store) {
	id := pending(t, s).ID
	checkErr(t, "Claim alice", s.Claim(t.Context(), id, "alice"), nil)
	checkErr(t, "ReturnToAI alice", s.ReturnToAI(t.Context(), id, "alice"), nil)
	if c := get(t, s, id); c.State != store.StateAI || c.Agent != "" {
		t.Fatalf("after return: %+v, want ai without agent", c)
	}
	_, err := s.RequestHandoff(t.Context(), store.Handoff{ConversationID: id, Reason: "frustration"})
	checkErr(t, "second RequestHandoff", err, nil)
	checkErr(t, "Claim bob", s.Claim(t.Context(), id, "bob"), nil)
	checkErr(t, "Resolve bob", s.Resolve(t.Context(), id, "bob"), nil)
	hs := handoffs(t, s, id)
	if len(hs) != 2 || hs[0].Status != store.HandoffReturned || hs[0].Agent != "alice" ||
		hs[1].Status != store.HandoffResolved || hs[1].Agent != "bob" {
		t.Errorf("handoffs = %+v, want [returned by alice, resolved by bob]", hs)
	}
	if c := get(t, s, id); c.State != store.StateResolved || c.Agent != "bob" {
		t.Errorf("conversation = %+v, want resolved by bob", c)
	}
}
