package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"switchboard/store"
)

// testConcurrentClaim has 20 agents click Claim on the same conversation at
// the same moment, several times over: exactly one may win.
func testConcurrentClaim(t *testing.T, open opener) {
	s := open(t)
	const agents, rounds = 20, 5
	for round := range rounds {
		id := pending(t, s).ID
		errs := make([]error, agents)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range agents {
			wg.Go(func() {
				<-start
				errs[i] = s.Claim(t.Context(), id, fmt.Sprintf("agent-%d", i))
			})
		}
		close(start)
		wg.Wait()
		winner := checkOneWinner(t, round, errs)
		if winner < 0 {
			continue
		}
		want := fmt.Sprintf("agent-%d", winner)
		if c := get(t, s, id); c.State != store.StateHuman || c.Agent != want {
			t.Errorf("round %d: conversation = %+v, want held by winner %s", round, c, want)
		}
		if hs := handoffs(t, s, id); len(hs) != 1 || hs[0].Status != store.HandoffClaimed || hs[0].Agent != want {
			t.Errorf("round %d: handoffs = %+v, want one claimed by %s", round, hs, want)
		}
	}
}

// checkOneWinner returns the index of the only nil error, or -1.
func checkOneWinner(t *testing.T, round int, errs []error) int {
	t.Helper()
	winner, wins, lost := -1, 0, 0
	for i, err := range errs {
		switch {
		case err == nil:
			winner, wins = i, wins+1
		case errors.Is(err, store.ErrAlreadyClaimed):
			lost++
		default:
			t.Errorf("round %d: agent-%d: unexpected error %v", round, i, err)
		}
	}
	if wins != 1 || lost != len(errs)-1 {
		t.Errorf("round %d: %d winners and %d ErrAlreadyClaimed, want 1 and %d", round, wins, lost, len(errs)-1)
		return -1
	}
	return winner
}
