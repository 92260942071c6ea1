package postgres

import (
	"context"
	"embed"
	"fmt"

	"github.com/jackc/pgx/v5"

	"switchboard/store/internal/migrate"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrate applies the migrations not yet recorded in schema_migrations in one
// transaction. Instances starting together take turns on an advisory lock
// keyed by schema, so each migration runs once, and PostgreSQL's
// transactional DDL means a failed migration leaves nothing behind.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := migrate.Load(migrationFiles, "migrations")
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('switchboard/store migrate ' || current_schema()))`); err != nil {
			return fmt.Errorf("migration lock: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    integer PRIMARY KEY,
			name       text NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now()
		)`); err != nil {
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

func applyMigration(ctx context.Context, tx pgx.Tx, m migrate.Migration) error {
	var applied bool
	err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)`, m.Version).Scan(&applied)
	if err != nil || applied {
		return err
	}
	var there bool
	if m.AppliedIf != "" {
		if err := tx.QueryRow(ctx, m.AppliedIf).Scan(&there); err != nil {
			return fmt.Errorf("migration %s: applied if: %w", m.Name, err)
		}
	}
	if !there {
		if _, err := tx.Exec(ctx, m.SQL); err != nil {
			return fmt.Errorf("migration %s: %w", m.Name, err)
		}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name); err != nil {
		return fmt.Errorf("migration %s: record: %w", m.Name, err)
	}
	return nil
}
