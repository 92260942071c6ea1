package postgres

import (
	"time"

	"github.com/jackc/pgx/v5"
)

// How values cross between rows and store types. pgx reads timestamptz in
// the local zone; the store promises UTC.

func utc(t time.Time) time.Time { return t.UTC() }

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := t.UTC()
	return &v
}

// nullText stores "" as NULL, for columns where "" means "none".
func nullText(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func textOf(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// collect scans every row with scan and closes rows.
func collect[T any](rows pgx.Rows, scan func(pgx.Row) (T, error)) ([]T, error) {
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (T, error) { return scan(r) })
}
