package sip

import "context"

type sentKey struct{}

// WithSent returns a ctx under which Refer and Dial call f once, right
// after their request (the REFER, the bridging INVITE) has been written to
// the transport: the moment it leaves the gateway. The voice channel times
// its handoffs with it.
func WithSent(ctx context.Context, f func()) context.Context {
	return context.WithValue(ctx, sentKey{}, f)
}

func notifySent(ctx context.Context) {
	if f, ok := ctx.Value(sentKey{}).(func()); ok {
		f()
	}
}
