package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"switchboard/store"
	"switchboard/store/internal/keylock"
)

// Conversation locks are session advisory locks, so that instances sharing
// the database take turns. Each instance holds its locks on a few
// connections of its own (lockSessions), outside the pool: a turn holds its
// lock while it waits for the model, and turns that each kept a pooled
// connection would soon leave none for their own queries. A conversation's
// lock is always taken on the same session, chosen by a hash of its id. A
// session runs one statement at a time, so every turn of the instance
// queued on one session for two round trips; under load that queue was
// the turns' tail. In front of the sessions, a lock per conversation in
// this process lets only one goroutine at a time ask PostgreSQL, since a
// session may take the same advisory lock twice.
//
// A waiter polls pg_try_advisory_lock rather than blocking in
// pg_advisory_lock: the shared session stays free for other conversations,
// and a caller that gives up leaves no waiter behind in the server.
//
// If the session breaks, PostgreSQL drops its locks; turns in flight finish
// unguarded and the next lock opens a new session. State changes do not
// depend on these locks: they lock rows.

// lockKey is the 64-bit advisory lock key of conversation $1. The schema is
// part of it, so deployments in different schemas of one database (and
// tests) do not wait for each other.
const lockKey = `hashtextextended('switchboard/conversation ' || current_schema() || ' ' || $1, 0)`

// The poll interval starts short, for a lock freed soon, and backs off to a
// bound on how late a waiter notices.
const (
	lockPollMin = 2 * time.Millisecond
	lockPollMax = 50 * time.Millisecond
	// lockStatementTimeout bounds one statement on a lock session.
	lockStatementTimeout = 10 * time.Second
	// lockSessions is how many connections an instance holds its
	// conversation locks on.
	lockSessions = 4
)

var errLocksClosed = errors.New("store closed")

// convLocks holds an instance's conversation locks.
type convLocks struct {
	local    keylock.Set
	sessions [lockSessions]lockSession
}

// lockSession is one connection that holds conversation locks.
type lockSession struct {
	cfg *pgx.ConnConfig

	mu      sync.Mutex // one statement at a time on conn
	conn    *pgx.Conn  // nil until the first lock, and after it broke
	session uint64     // counts connections; a lock taken on an earlier one is gone
	closed  bool
}

func newConvLocks(cfg *pgx.ConnConfig) *convLocks {
	l := &convLocks{}
	for i := range l.sessions {
		l.sessions[i].cfg = cfg
	}
	return l
}

// LockConversation takes the conversation's lock for every instance on the
// database; see store.Store.
func (s *Store) LockConversation(ctx context.Context, id store.ConversationID) (func(), error) {
	unlock, err := s.locks.lock(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("postgres: lock conversation %s: %w", id, err)
	}
	return unlock, nil
}

// sessionOf is the session conversation id's lock is taken on.
func (l *convLocks) sessionOf(id store.ConversationID) *lockSession {
	h := fnv.New32a()
	h.Write([]byte(id))
	return &l.sessions[h.Sum32()%lockSessions]
}

func (l *convLocks) lock(ctx context.Context, id store.ConversationID) (func(), error) {
	unlockLocal, err := l.local.Lock(ctx, string(id))
	if err != nil {
		return nil, err
	}
	ls := l.sessionOf(id)
	session, err := ls.acquire(ctx, id)
	if err != nil {
		unlockLocal()
		return nil, err
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			ls.release(id, session)
			unlockLocal()
		})
	}, nil
}

// acquire polls until the advisory lock is taken or ctx ends, and returns
// the session that holds it.
func (l *lockSession) acquire(ctx context.Context, id store.ConversationID) (uint64, error) {
	wait := lockPollMin
	for {
		session, ok, err := l.try(ctx, id)
		if err != nil || ok {
			return session, err
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, lockPollMax)
	}
}

// try takes the advisory lock if it is free.
func (l *lockSession) try(ctx context.Context, id store.ConversationID) (session uint64, ok bool, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return 0, false, errLocksClosed
	}
	if l.conn == nil {
		conn, err := pgx.ConnectConfig(ctx, l.cfg)
		if err != nil {
			return 0, false, fmt.Errorf("lock session: %w", err)
		}
		l.conn, l.session = conn, l.session+1
	}
	// The statement does not end with ctx: cut off, it could leave the lock
	// taken on the session with nobody to release it. ctx is heeded between
	// statements.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), lockStatementTimeout)
	defer cancel()
	if err := l.conn.QueryRow(sctx, `SELECT pg_try_advisory_lock(`+lockKey+`)`, id).Scan(&ok); err != nil {
		l.endSession() // its locks are in doubt; ending it frees them
		return 0, false, fmt.Errorf("try lock: %w", err)
	}
	return l.session, ok, nil
}

// release unlocks the advisory lock taken on session, unless that session
// has ended, which released it already.
func (l *lockSession) release(id store.ConversationID, session uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn == nil || l.session != session {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), lockStatementTimeout)
	defer cancel()
	if _, err := l.conn.Exec(ctx, `SELECT pg_advisory_unlock(`+lockKey+`)`, id); err != nil {
		l.endSession() // ending the session releases the lock the statement could not
	}
}

// endSession closes the lock session; PostgreSQL releases its locks. l.mu
// must be held.
func (l *lockSession) endSession() {
	if l.conn == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), lockStatementTimeout)
	defer cancel()
	_ = l.conn.Close(ctx) // closing never fails in a way that keeps the session
	l.conn = nil
}

// close ends the lock sessions for good.
func (l *convLocks) close() {
	for i := range l.sessions {
		ls := &l.sessions[i]
		ls.mu.Lock()
		ls.closed = true
		ls.endSession()
		ls.mu.Unlock()
	}
}
