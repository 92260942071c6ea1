package store

// The limits HandoffsSince and Unanswered apply when called with limit 0.
// They bound what one call reads for the agent console's insights view.
const (
	DefaultHandoffsSinceLimit = 10_000
	DefaultUnansweredLimit    = 1_000
)
