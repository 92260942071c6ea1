package sqlite_test

import (
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"switchboard/store"
	"switchboard/store/sqlite"
)

// TestOutboxRebuildKeepsGivenUp runs migration 0004, which rebuilds the
// outbox table, over a database it already migrated: the items and their
// failed_at survive, and a given-up item still never comes due.
func TestOutboxRebuildKeepsGivenUp(t *testing.T) {
	path := filepath.Join(t.TempDir(), "switchboard.db")
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t0 := time.Date(2021, 3, 4, 5, 6, 7, 0, time.UTC)
	var ids []int64
	for _, key := range []string{"given-up", "pending"} {
		it, _, err := s.Enqueue(t.Context(), store.OutboxItem{IdempotencyKey: key, Payload: []byte(key), NextAttemptAt: t0})
		if err != nil {
			t.Fatalf("Enqueue: %v", err)
		}
		ids = append(ids, it.ID)
	}
	if err := s.GiveUp(t.Context(), ids[0], "400 invalid number", t0); err != nil {
		t.Fatalf("GiveUp: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer db.Close()
	if _, err := db.ExecContext(t.Context(), `DELETE FROM schema_migrations WHERE version >= 4`); err != nil {
		t.Fatalf("forget migration 0004: %v", err)
	}

	again := open(t, path)
	given, err := again.OutboxItem(t.Context(), ids[0])
	if err != nil || given.FailedAt == nil || !given.FailedAt.Equal(t0) || string(given.Payload) != "given-up" || given.Attempts != 1 {
		t.Errorf("given-up item after the rebuild = %+v, %v; want it kept with FailedAt %v", given, err, t0)
	}
	due, err := again.Due(t.Context(), t0.Add(time.Hour), 10, time.Minute)
	if err != nil || len(due) != 1 || due[0].ID != ids[1] || string(due[0].Payload) != "pending" {
		t.Errorf("Due after the rebuild = %+v, %v; want only the pending item", due, err)
	}
}
