package storetest

import (
	"slices"
	"sync"
	"testing"
	"time"

	"switchboard/store"
)

// testLiveCalls records calls under way and hands those whose instance went
// quiet to one taker.
func testLiveCalls(t *testing.T, open opener) {
	t.Run("StaleOnesAreTakenOnce", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		for _, c := range []store.LiveCall{
			{CallID: "a@pbx", Channel: store.ChannelVoice, Instance: "dead", StartedAt: t0},
			{CallID: "b@pbx", Channel: store.ChannelVoice, Instance: "dead", StartedAt: t0.Add(time.Second)},
			{CallID: "c@pbx", Channel: store.ChannelVoice, Instance: "alive", StartedAt: t0},
			{CallID: "d@pbx", Channel: store.ChannelVoice, Instance: "alive", StartedAt: t0},
		} {
			if err := s.CallStarted(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.CallEnded(ctx, "d@pbx"); err != nil {
			t.Fatal(err)
		}
		if err := s.CallEnded(ctx, "never-started"); err != nil {
			t.Errorf("CallEnded of an unknown call: %v", err)
		}
		if err := s.TouchCalls(ctx, "alive", t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		got, err := s.TakeStaleCalls(ctx, t0.Add(time.Minute), 10)
		if err != nil {
			t.Fatal(err)
		}
		ids := make([]string, len(got))
		for i, c := range got {
			ids[i] = c.CallID
		}
		if !slices.Equal(ids, []string{"a@pbx", "b@pbx"}) {
			t.Fatalf("took %v, want the dead instance's a@pbx, b@pbx oldest first", ids)
		}
		if c := got[1]; c.Instance != "dead" || c.Channel != store.ChannelVoice || !c.StartedAt.Equal(t0.Add(time.Second)) || !c.SeenAt.Equal(c.StartedAt) {
			t.Errorf("took %+v, want it as started", c)
		}
		if again, err := s.TakeStaleCalls(ctx, t0.Add(time.Minute), 10); err != nil || len(again) != 0 {
			t.Errorf("second take: %v, %v; want nothing left", again, err)
		}
		if later, err := s.TakeStaleCalls(ctx, t0.Add(2*time.Hour), 10); err != nil || len(later) != 1 || later[0].CallID != "c@pbx" {
			t.Errorf("once the live instance went quiet too: %v, %v; want c@pbx", later, err)
		}
	})
	t.Run("ConcurrentTakers", func(t *testing.T) {
		s := open(t)
		const calls = 40
		for i := range calls {
			c := store.LiveCall{CallID: string(rune('A'+i)) + "@pbx", Channel: store.ChannelVoice, Instance: "dead", StartedAt: t0}
			if err := s.CallStarted(t.Context(), c); err != nil {
				t.Fatal(err)
			}
		}
		var mu sync.Mutex
		taken := map[string]int{}
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for {
					got, err := s.TakeStaleCalls(t.Context(), t0.Add(time.Minute), 3)
					if err != nil {
						t.Error(err)
						return
					}
					if len(got) == 0 {
						return
					}
					mu.Lock()
					for _, c := range got {
						taken[c.CallID]++
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if len(taken) != calls {
			t.Errorf("%d calls taken, want %d", len(taken), calls)
		}
		for id, n := range taken {
			if n != 1 {
				t.Errorf("%s taken %d times", id, n)
			}
		}
	})
	t.Run("Invalid", func(t *testing.T) {
		s := open(t)
		for _, c := range []store.LiveCall{
			{Channel: store.ChannelVoice, Instance: "i"},
			{CallID: "x", Channel: store.ChannelVoice},
			{CallID: "x", Channel: "phone", Instance: "i"},
		} {
			checkErr(t, "CallStarted", s.CallStarted(t.Context(), c), store.ErrInvalid)
		}
		_, err := s.TakeStaleCalls(t.Context(), t0, 0)
		checkErr(t, "TakeStaleCalls with limit 0", err, store.ErrInvalid)
	})
}
