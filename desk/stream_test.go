package desk

import (
	"log/slog"
	"testing"
	"time"

	"switchboard/events"
)

// Every instance repeats its agents' presence each heartbeat; a console
// hears only the changes, so a desk full of agents does not make every
// console refetch its queue every few seconds.
func TestAgentStreamHearsPresenceChangesOnly(t *testing.T) {
	a, err := LoadAgents(nil, Sources{Getenv: fakeEnv{}.get}, tokSam)
	if err != nil {
		t.Fatal(err)
	}
	v := &agentView{d: &Desk{o: Options{Agents: a}}, online: map[string]bool{}}
	heard := 0
	for _, online := range []bool{true, true, true, false, false, true} {
		out, err := v.Render(t.Context(), events.Event{Kind: events.Presence, Agent: "agent", Online: online})
		if err != nil {
			t.Fatal(err)
		}
		heard += len(out)
	}
	if heard != 3 {
		t.Errorf("heard %d presence events, want 3 (online, offline, online)", heard)
	}
}

// A console opened while a colleague is online hears them leave, though it
// never heard them arrive.
func TestAgentStreamHearsSomeoneLeaveWhoWasOnlineBeforeIt(t *testing.T) {
	a, err := LoadAgents(nil, Sources{Getenv: fakeEnv{}.get}, tokSam)
	if err != nil {
		t.Fatal(err)
	}
	bus := events.NewInProcess("a")
	defer bus.Close()
	p := NewPresence(bus, "a", time.Now, slog.New(slog.DiscardHandler))
	leave := p.Connect(t.Context(), "kim")
	v := (&Desk{o: Options{Agents: a, Presence: p}}).newAgentView()
	leave()
	out, err := v.Render(t.Context(), events.Event{Kind: events.Presence, Agent: "kim", Online: false})
	if err != nil || len(out) != 1 {
		t.Errorf("Render(kim left) = %v, %v; want one presence event", out, err)
	}
}
