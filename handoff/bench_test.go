package handoff

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkDecide is one policy decision on a 20-message conversation, the
// figure README quotes (target: under 100µs per turn).
func BenchmarkDecide(b *testing.B) {
	p := policyAt(b, "balanced")
	var msgs []Message
	questions := []string{
		"hi, where is my order 55120?", "ok and when will the oak table arrive", "can I change the delivery address",
		"do you deliver on saturdays", "what about the chairs, are they in the same parcel?", "how do returns work",
		"is there a fee for returning a sofa", "can I pay with a gift card", "my promo code SPRING10 didn't apply",
		"thanks, one more: how long is the warranty on the bed frame?",
	}
	for i, q := range questions {
		msgs = append(msgs, ai(fmt.Sprintf("Here is what I found (%d): it ships in 3-5 business days.", i)), c(q))
	}
	in := Input{Channel: "web", Messages: msgs, Now: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
	b.ReportAllocs()
	for b.Loop() {
		p.Decide(in)
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/turn")
}

// BenchmarkNew is building a policy: loading the intent model and training
// the restricted-topic classifiers, as on start and every reload.
func BenchmarkNew(b *testing.B) {
	cfg := shippedHandoff(b, nil)
	for b.Loop() {
		if _, err := New(cfg); err != nil {
			b.Fatal(err)
		}
	}
}
