package sqlite

import (
	"context"
	"database/sql"
	"sync"
)

// maxPrepared bounds the statements a pool keeps prepared. The store's
// statements are constants, plus a few shapes of the list query; past the
// bound a statement is parsed on every call, as without the cache.
const maxPrepared = 128

// pool is a connection pool that keeps each statement it runs prepared, so
// SQLite parses it once rather than on every call. For the short
// statements of a turn, parsing is most of what they cost, and the single
// writer pays it one statement at a time while every other writer waits.
// QueryRowContext, QueryContext and ExecContext shadow *sql.DB's.
type pool struct {
	*sql.DB
	// ran, when set, is called after each statement: the writer's tells
	// the checkpointer.
	ran   func()
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

func newPool(db *sql.DB, ran func()) *pool {
	if ran == nil {
		ran = func() {}
	}
	return &pool{DB: db, ran: ran, stmts: map[string]*sql.Stmt{}}
}

// uncancelled is ctx without its cancellation once it is known not to be
// over: a statement given a context that can end gets a goroutine of its
// own from the driver, to interrupt it, for the moment it runs. These
// statements are short; a goroutine started and woken for each of them,
// thousands a second, delayed the writer on a busy machine.
func (p *pool) uncancelled(ctx context.Context) context.Context {
	if ctx.Err() != nil {
		return ctx
	}
	return context.WithoutCancel(ctx)
}

// lookup is query's statement if it is prepared already.
func (p *pool) lookup(query string) *sql.Stmt {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stmts[query]
}

// prepared is query's statement, prepared on first use; nil when it cannot
// be kept (the cache is full, or preparing failed: running the query
// unprepared then reports the error). Preparing takes a connection, so the
// lock is not held meanwhile, and a transaction, which holds the writer's
// only connection, must not call it.
func (p *pool) prepared(ctx context.Context, query string) *sql.Stmt {
	p.mu.Lock()
	st, ok := p.stmts[query]
	full := len(p.stmts) >= maxPrepared
	p.mu.Unlock()
	if ok || full {
		return st
	}
	st, err := p.DB.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if had, ok := p.stmts[query]; ok { // prepared meanwhile by another caller
		st.Close()
		return had
	}
	p.stmts[query] = st
	return st
}

// QueryRowContext runs query, prepared, for at most one row.
func (p *pool) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	defer p.ran()
	ctx = p.uncancelled(ctx)
	if st := p.prepared(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return p.DB.QueryRowContext(ctx, query, args...)
}

// QueryContext runs query, prepared.
func (p *pool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	defer p.ran()
	ctx = p.uncancelled(ctx)
	if st := p.prepared(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return p.DB.QueryContext(ctx, query, args...)
}

// ExecContext runs query, prepared.
func (p *pool) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	defer p.ran()
	ctx = p.uncancelled(ctx)
	if st := p.prepared(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return p.DB.ExecContext(ctx, query, args...)
}

// Close closes the prepared statements and the pool.
func (p *pool) Close() error {
	p.mu.Lock()
	for q, st := range p.stmts {
		st.Close() // closing the pool would finalize it anyway
		delete(p.stmts, q)
	}
	p.mu.Unlock()
	return p.DB.Close()
}

// txn is a write transaction that runs the statements the writer's pool
// has prepared (on this very connection, so nothing is parsed again). One
// the pool has not prepared yet runs unprepared and is remembered, for
// inTx to prepare once the transaction has let the connection go.
type txn struct {
	*sql.Tx
	p      *pool
	ctx    context.Context
	missed []string
}

func (t *txn) stmt(query string) *sql.Stmt {
	st := t.p.lookup(query)
	if st == nil {
		t.missed = append(t.missed, query)
		return nil
	}
	return t.Tx.StmtContext(t.ctx, st)
}

// QueryRowContext runs query for at most one row.
func (t *txn) QueryRowContext(_ context.Context, query string, args ...any) *sql.Row {
	if st := t.stmt(query); st != nil {
		return st.QueryRowContext(t.ctx, args...)
	}
	return t.Tx.QueryRowContext(t.ctx, query, args...)
}

// QueryContext runs query.
func (t *txn) QueryContext(_ context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := t.stmt(query); st != nil {
		return st.QueryContext(t.ctx, args...)
	}
	return t.Tx.QueryContext(t.ctx, query, args...)
}

// ExecContext runs query.
func (t *txn) ExecContext(_ context.Context, query string, args ...any) (sql.Result, error) {
	if st := t.stmt(query); st != nil {
		return st.ExecContext(t.ctx, args...)
	}
	return t.Tx.ExecContext(t.ctx, query, args...)
}
