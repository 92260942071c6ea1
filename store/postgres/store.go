// Package postgres is the shared store: PostgreSQL through pgx, for several
// Switchboard instances behind one database.
//
// Every change that reads before it writes (a claim checking the state) locks
// the conversation row first (SELECT ... FOR UPDATE), so concurrent agents on
// any instance are decided one after the other. Conversation locks, which
// order whole turns, are advisory locks on sessions of their own (lock.go). Tables are created unqualified
// in the first schema of the connection's search_path, so a DSN such as
// "postgres://host/db?search_path=switchboard" picks the schema.
package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"switchboard/store"
)

// defaultMaxConns is the pool's size unless the DSN sets pool_max_conns.
// pgx's default, the number of CPUs and at least 4, is far too few for a
// gateway: every statement holds a connection for its round trip, and
// under load thousands of streams and turns queued for four of them.
const defaultMaxConns = 16

// Store is a store.Store on a PostgreSQL connection pool.
type Store struct {
	pool  *pgxpool.Pool
	locks *convLocks
}

var _ store.Store = (*Store)(nil)

// Open connects to dsn (a URL or key=value string, as pgx parses it), checks
// the server answers and applies pending migrations. Errors never include
// the DSN, which may hold a password.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: parse dsn: %w", store.ErrInvalid)
	}
	if !strings.Contains(dsn, "pool_max_conns") {
		cfg.MaxConns = defaultMaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	s := &Store{pool: pool, locks: newConvLocks(pool.Config().ConnConfig)}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	return s, nil
}

// Ping checks that the server answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: ping: %w", err)
	}
	return nil
}

// Close closes the pool, waiting for connections in use to be returned, and
// ends the session that holds conversation locks, releasing any still held.
func (s *Store) Close() error {
	s.locks.close()
	s.pool.Close()
	return nil
}

// querier is what both the pool and a transaction offer.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// inTx runs fn in a transaction, committing when fn returns nil.
func (s *Store) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.pool, fn)
}
