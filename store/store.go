// Package store owns what Switchboard remembers: conversations, their
// messages, handoffs to humans and the outbox of replies still to deliver.
//
// Store is the one interface the rest of Switchboard sees; store/sqlite (the
// embedded default) and store/postgres implement it and pass the same
// conformance suite in store/storetest. No SQL leaves this package tree:
// callers speak in conversations, messages and handoffs, and branch on the
// sentinel errors below with errors.Is.
package store

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors. Implementations wrap them with %w, so callers use errors.Is.
var (
	// ErrNotFound means the conversation, message or outbox item does not
	// exist.
	ErrNotFound = errors.New("store: not found")
	// ErrAlreadyClaimed means another agent claimed the conversation first.
	ErrAlreadyClaimed = errors.New("store: conversation already claimed by another agent")
	// ErrWrongState means the conversation's state does not allow the change.
	ErrWrongState = errors.New("store: conversation is in the wrong state for this change")
	// ErrNotHolder means an agent tried to close a conversation another agent holds.
	ErrNotHolder = errors.New("store: agent does not hold the conversation")
	// ErrInvalid means the input breaks a rule the store enforces, such as an
	// unknown state, role or channel, or an outbox item without an
	// idempotency key.
	ErrInvalid = errors.New("store: invalid input")
	// ErrExists means a conversation with the given ID, or with the given
	// thread key on its channel, is already stored.
	ErrExists = errors.New("store: conversation already exists")
)

// Store keeps conversations, messages, handoffs and the outbox. All methods are
// safe for concurrent use, and every state change is atomic: callers never see
// a conversation moved without its handoff, or the reverse.
//
// Times are returned in UTC, truncated to the microsecond, the precision both
// implementations keep.
type Store interface {
	// CreateConversation stores c. It generates a random ID when c.ID is empty
	// (ErrExists when a given ID is taken, or c.ThreadKey is taken on c.Channel),
	// defaults State to StateAI, and sets CreatedAt to now and UpdatedAt to
	// CreatedAt unless they are given, so imported conversations keep their
	// history. An unknown channel or state is ErrInvalid.
	CreateConversation(ctx context.Context, c Conversation) (Conversation, error)
	// Conversation returns the conversation with id, or ErrNotFound.
	Conversation(ctx context.Context, id ConversationID) (Conversation, error)
	// ConversationByThread returns the conversation on channel whose
	// ThreadKey is key, or ErrNotFound; an empty key matches none. An
	// unknown channel is ErrInvalid.
	ConversationByThread(ctx context.Context, channel Channel, key string) (Conversation, error)
	// SetThreadKey sets the conversation's ThreadKey, for a channel that
	// learns it after creating the conversation (an email's first
	// Message-ID); "" clears it. UpdatedAt is kept: a key is not activity.
	// ErrExists when another conversation on the channel has key,
	// ErrNotFound for an unknown id.
	SetThreadKey(ctx context.Context, id ConversationID, key string) error
	// ListConversations returns conversations in the given states (all when
	// none are given), most recently updated first.
	ListConversations(ctx context.Context, f ListFilter) ([]Conversation, error)

	// AppendMessage stores m and bumps the conversation's UpdatedAt. When
	// m.IdempotencyKey is set and already stored for that conversation it
	// returns the stored message and created=false, so a redelivered inbound
	// message is stored once. ErrNotFound for an unknown conversation.
	AppendMessage(ctx context.Context, m Message) (stored Message, created bool, err error)
	// Message returns the message with id, or ErrNotFound. Bus subscribers,
	// which are told only ids, read what happened with it.
	Message(ctx context.Context, id int64) (Message, error)
	// Messages returns the conversation's messages oldest first (by ID), or
	// ErrNotFound for an unknown conversation.
	Messages(ctx context.Context, id ConversationID) ([]Message, error)
	// Unanswered returns customer messages created at or after since that the
	// AI answered with a message marked Unresolved (the very next message of the
	// conversation, in the order Messages returns, is role ai with Unresolved
	// true), newest first, at most limit (0 = 1,000). These are the questions
	// the AI could not answer. A negative limit is ErrInvalid.
	Unanswered(ctx context.Context, since time.Time, limit int) ([]Message, error)

	// CallStarted records a call under way (an existing CallID is
	// replaced); SeenAt defaults to StartedAt, StartedAt to now. An empty
	// CallID or Instance, or an unknown channel, is ErrInvalid.
	CallStarted(ctx context.Context, c LiveCall) error
	// CallEnded forgets the call; an unknown id is no error.
	CallEnded(ctx context.Context, callID string) error
	// TouchCalls sets SeenAt of every call of instance to at: the
	// instance's heartbeat.
	TouchCalls(ctx context.Context, instance string, at time.Time) error
	// TakeStaleCalls removes and returns at most limit calls last seen
	// before before, oldest first. Of concurrent takers (instances) each
	// call goes to one. A limit below 1 is ErrInvalid.
	TakeStaleCalls(ctx context.Context, before time.Time, limit int) ([]LiveCall, error)

	// LockConversation waits until nobody else holds the conversation's
	// lock, in this process or in any other instance on the same database,
	// and takes it, so that the turns of one conversation run one at a
	// time. unlock releases it; calling it again does nothing. A caller
	// whose ctx ends while it waits gets ctx's error and holds nothing. The
	// conversation need not exist. The lock only orders those who take it:
	// state changes stay atomic without it.
	LockConversation(ctx context.Context, id ConversationID) (unlock func(), err error)

	// RequestHandoff records h with Status pending (unless set) and moves the
	// conversation from ai to pending_human in one transaction; ErrWrongState
	// (nothing written) when the conversation is not in state ai. Status
	// follow_up records the handoff in any state without changing it. The
	// handoff returned has Channel set from the conversation; h.Channel is
	// ignored.
	RequestHandoff(ctx context.Context, h Handoff) (Handoff, error)
	// Handoffs returns the conversation's handoffs oldest first, with Channel
	// set, or ErrNotFound.
	Handoffs(ctx context.Context, id ConversationID) ([]Handoff, error)
	// HandoffsSince returns the handoffs (follow-ups included) created at or
	// after since, oldest first, at most limit (0 = 10,000), with Channel set.
	// A negative limit is ErrInvalid.
	HandoffsSince(ctx context.Context, since time.Time, limit int) ([]Handoff, error)
	// Claim gives a pending_human conversation to agent (state human) and marks
	// its open handoff claimed. Of many concurrent claimers exactly one wins;
	// the others get ErrAlreadyClaimed. The holder claiming again is a no-op.
	// ErrWrongState in any other state.
	Claim(ctx context.Context, id ConversationID, agent string) error
	// Resolve moves a pending_human or human conversation to resolved and
	// closes its open handoff. When the state is human, agent must be the
	// holder (ErrNotHolder otherwise).
	Resolve(ctx context.Context, id ConversationID, agent string) error
	// ReturnToAI moves a pending_human or human conversation back to ai,
	// clears its agent and marks its open handoff returned; same holder rule
	// as Resolve.
	ReturnToAI(ctx context.Context, id ConversationID, agent string) error

	// Enqueue adds an outbox item. The same IdempotencyKey again returns the
	// stored item and created=false. NextAttemptAt defaults to now.
	Enqueue(ctx context.Context, it OutboxItem) (stored OutboxItem, created bool, err error)
	// Due leases up to limit pending items (neither delivered nor given up)
	// whose NextAttemptAt <= now, oldest due first, pushing their
	// NextAttemptAt to now+lease so that two workers never hold the same item
	// at once. A worker that dies simply lets its lease run out.
	Due(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]OutboxItem, error)
	// Delivered marks the item delivered at at; it never comes due again.
	Delivered(ctx context.Context, id int64, at time.Time) error
	// DeliveredAll is Delivered for many items in one write, for a worker
	// that sends many at once. ErrNotFound when any id is unknown; the
	// known ones are marked all the same.
	DeliveredAll(ctx context.Context, ids []int64, at time.Time) error
	// Failed records a failed attempt: Attempts++, LastError, NextAttemptAt=next.
	Failed(ctx context.Context, id int64, errText string, next time.Time) error
	// GiveUp records the last failed attempt and ends the item's delivery:
	// Attempts++, LastError, FailedAt=at; it never comes due again. Giving up
	// again keeps the first record and is no error; a delivered item is
	// ErrWrongState and left as it is.
	GiveUp(ctx context.Context, id int64, errText string, at time.Time) error
	// OutboxItem returns the item with id, or ErrNotFound.
	OutboxItem(ctx context.Context, id int64) (OutboxItem, error)
	// OutboxStats counts the pending items; Due counts those due at now.
	OutboxStats(ctx context.Context, now time.Time) (OutboxStats, error)

	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	// Close releases the database. The Store must not be used afterwards.
	Close() error
}
