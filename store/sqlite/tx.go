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
	sqlTx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	tx := &txn{Tx: sqlTx, p: s.write}
	defer func() {
		for _, q := range tx.missed {
			s.write.prepared(ctx, q)
		}
	}()
	if err := fn(tx); err != nil {
		if rbErr := tx.Rollback(); rbErr != nil {
			return errors.Join(err, fmt.Errorf("rollback: %w", rbErr))
		}
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	s.wrote()
	return nil
}

// queryRower is what single-row reads need, from a pool or a transaction.
type queryRower interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}
