package store

import "time"

// LiveCall is a call under way on one instance, recorded so that a call
// whose instance died (SIGKILL, a lost machine) is found by another, or by
// the same one restarted, and closed in its conversation instead of
// looking live for ever. Its instance refreshes SeenAt while it runs.
type LiveCall struct {
	CallID    string // the call's own id (SIP Call-ID): its conversation's ThreadKey
	Channel   Channel
	Instance  string
	StartedAt time.Time
	SeenAt    time.Time
}
