package storetest

import (
	"fmt"
	"sync/atomic"
	"testing"

	"switchboard/store"
)

// BenchAppendMessage measures AppendMessage, the durable write every inbound
// message pays before it is acknowledged: one writer with and without an
// idempotency key, and many writers at once. open returns a new, empty store
// and arranges for it to be closed.
func BenchAppendMessage(b *testing.B, open func(b *testing.B) store.Store) {
	for _, bc := range []struct {
		name     string
		keyed    bool
		parallel bool
	}{
		{"serial", false, false},
		{"serial-keyed", true, false},
		{"parallel-keyed", true, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s := open(b)
			c, err := s.CreateConversation(b.Context(), store.Conversation{Channel: store.ChannelWeb})
			if err != nil {
				b.Fatal(err)
			}
			var seq atomic.Int64
			appendOne := func() {
				m := store.Message{ConversationID: c.ID, Role: store.RoleCustomer, Text: "where is my order?"}
				if bc.keyed {
					m.IdempotencyKey = fmt.Sprintf("msg-%d", seq.Add(1))
				}
				if _, _, err := s.AppendMessage(b.Context(), m); err != nil {
					b.Error(err)
				}
			}
			if bc.parallel {
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						appendOne()
					}
				})
			} else {
				for b.Loop() {
					appendOne()
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}
