package storetest

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"switchboard/store"
)

// The web chat load's pattern, as BenchAppendLatency replays it.
const (
	latencyConversations = 5000
	latencyTurns         = 500 // a second
	latencyDuration      = 10 * time.Second
)

// BenchAppendLatency replays what the web chat load (scripts/webload.sh)
// asks of the store, without the HTTP around it: 5,000 conversations, 500
// customer turns a second for 10 s, each on a goroutine of its own at its
// time. A turn is what the conductor and the visitor's stream do (see
// turn), the responder and the policy left out. It reports the
// percentiles of one append (append-*) and of the whole turn (turn-*): a
// writer stalled by a checkpoint or a lock shows in their tails. open
// returns a new, empty store and arranges for it to be closed. Run it with
// -benchtime 1x.
func BenchAppendLatency(b *testing.B, open func(b *testing.B) store.Store) {
	s := open(b)
	ctx := b.Context()
	convs := make([]store.ConversationID, latencyConversations)
	for i := range convs {
		c, err := s.CreateConversation(ctx, store.Conversation{Channel: store.ChannelWeb, Customer: "web visitor"})
		if err != nil {
			b.Fatal(err)
		}
		convs[i] = c.ID
	}
	var appends, turns []time.Duration
	for b.Loop() {
		a, t := replayTurns(b, s, convs)
		appends, turns = append(appends, a...), append(turns, t...)
	}
	b.ReportMetric(float64(len(turns)), "turns")
	b.ReportMetric(quantile(appends, 0.5), "append-p50-ms")
	b.ReportMetric(quantile(appends, 0.99), "append-p99-ms")
	b.ReportMetric(quantile(appends, 1), "append-max-ms")
	b.ReportMetric(quantile(turns, 0.5), "turn-p50-ms")
	b.ReportMetric(quantile(turns, 0.99), "turn-p99-ms")
	b.ReportMetric(quantile(turns, 1), "turn-max-ms")
}

// replayTurns runs latencyTurns turns a second for latencyDuration and
// returns how long each append and each turn took.
func replayTurns(b *testing.B, s store.Store, convs []store.ConversationID) (appends, turns []time.Duration) {
	n := int(latencyDuration.Seconds() * latencyTurns)
	interval := time.Second / latencyTurns
	type result struct {
		customer, ai, turn time.Duration
		err                error
	}
	out := make([]result, n)
	rng := rand.New(rand.NewPCG(1, 2))
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		time.Sleep(time.Until(start.Add(time.Duration(i) * interval))) // pacing the load, not waiting for an outcome
		id := convs[rng.IntN(len(convs))]
		wg.Go(func() {
			r := &out[i]
			began := time.Now()
			r.customer, r.ai, r.err = turn(b.Context(), s, id, fmt.Sprint("web:", i))
			r.turn = time.Since(began)
		})
	}
	wg.Wait()
	for _, r := range out {
		if r.err != nil {
			b.Fatal(r.err)
		}
		appends = append(appends, r.customer, r.ai)
		turns = append(turns, r.turn)
	}
	return appends, turns
}

// turn is what a customer's turn asks of the store: the conductor takes
// the conversation's lock, reads the conversation, appends the message,
// reads the history and appends the reply; the visitor's stream reads each
// message by id when the bus tells it. It returns how long the appends
// took.
func turn(ctx context.Context, s store.Store, id store.ConversationID, key string) (customer, ai time.Duration, err error) {
	unlock, err := s.LockConversation(ctx, id)
	if err != nil {
		return 0, 0, err
	}
	defer unlock()
	if _, err := s.Conversation(ctx, id); err != nil {
		return 0, 0, err
	}
	customer, err = appendAndRead(ctx, s, store.Message{ConversationID: id, Role: store.RoleCustomer,
		Text: "How long do I have to return an item?", IdempotencyKey: key})
	if err != nil {
		return customer, 0, err
	}
	if _, err := s.Messages(ctx, id); err != nil {
		return customer, 0, err
	}
	ai, err = appendAndRead(ctx, s, store.Message{ConversationID: id, Role: store.RoleAI,
		Text: "You can return any item within 30 days of delivery."})
	return customer, ai, err
}

// appendAndRead appends m and reads it back by id, as a bus subscriber
// does; it returns how long the append took.
func appendAndRead(ctx context.Context, s store.Store, m store.Message) (time.Duration, error) {
	began := time.Now()
	stored, _, err := s.AppendMessage(ctx, m)
	took := time.Since(began)
	if err != nil {
		return took, err
	}
	_, err = s.Message(ctx, stored.ID)
	return took, err
}

// quantile is the q-quantile of ds in milliseconds (nearest rank).
func quantile(ds []time.Duration, q float64) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(ds))
	i := max(int(math.Ceil(q*float64(len(s))))-1, 0)
	return math.Round(float64(s[i])/float64(time.Microsecond)) / 1000
}
