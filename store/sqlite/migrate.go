package sqlite

import (
	"context"
	"embed"
	"fmt"

	"switchboard/store/internal/migrate"
	"switchboard/store/internal/rules"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrate applies the migrations not yet recorded in schema_migrations, all in
// one write transaction: BEGIN IMMEDIATE keeps a second process from applying
// them at the same time, and a failed migration leaves nothing behind.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := migrate.Load(migrationFiles, "migrations")
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *txn) error {
		if _, err := tx.Tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    INTEGER PRIMARY KEY,
			name       TEXT NOT NULL,
			applied_at INTEGER NOT NULL
		) STRICT`); err != nil {
			return fmt.Errorf("schema_migrations: %w", err)
		}
		for _, m := range ms {
			if err := applyMigration(ctx, tx, m); err != nil {
				return err
			}
		}
		return nil
	})
}

func applyMigration(ctx context.Context, tx *txn, m migrate.Migration) error {
	var n int
	err := tx.Tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, m.Version).Scan(&n)
	if err != nil || n > 0 {
		return err
	}
	var there bool
	if m.AppliedIf != "" {
		if err := tx.Tx.QueryRowContext(ctx, m.AppliedIf).Scan(&there); err != nil {
			return fmt.Errorf("migration %s: applied if: %w", m.Name, err)
		}
	}
	if !there {
		if _, err := tx.Tx.ExecContext(ctx, m.SQL); err != nil {
			return fmt.Errorf("migration %s: %w", m.Name, err)
		}
	}
	_, err = tx.Tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at)
		VALUES (?, ?, ?)`, m.Version, m.Name, micros(rules.Now()))
	if err != nil {
		return fmt.Errorf("migration %s: record: %w", m.Name, err)
	}
	return nil
}
