package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// inTx runs fn in a transaction on the writer. The writer's DSN makes it
// BEGIN IMMEDIATE, so a transaction that reads before it writes (a claim
// checking the state) already holds the write lock when it reads. The
// statements it ran unprepared are prepared once it has ended.
func (s *Store) inTx(ctx context.Context, fn func(*txn) error) error {
	missed, err := s.runTx(ctx, fn)
	for _, q := range missed { // the writer is free again
		s.write.prepared(ctx, q)
	}
	return err
}

// runTx runs fn in a transaction on the writer's connection and returns the
// statements it ran unprepared. Waiting for the writer ends with ctx; once
// it is ours, the statements run to their end, not cut off by ctx: they
// are short, and no goroutine need watch ctx for each.
func (s *Store) runTx(ctx context.Context, fn func(*txn) error) ([]string, error) {
	conn, err := s.write.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	defer conn.Close()
	run := context.WithoutCancel(ctx)
	sqlTx, err := conn.BeginTx(run, nil)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	tx := &txn{Tx: sqlTx, p: s.write, ctx: run}
	if err := fn(tx); err != nil {
		if rbErr := tx.Rollback(); rbErr != nil {
			return tx.missed, errors.Join(err, fmt.Errorf("rollback: %w", rbErr))
		}
		return tx.missed, err
	}
	if err := tx.Commit(); err != nil {
		return tx.missed, fmt.Errorf("commit: %w", err)
	}
	s.wrote()
	return tx.missed, nil
}

// queryRower is what single-row reads need, from a pool or a transaction.
type queryRower interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}
