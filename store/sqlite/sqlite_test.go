package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/goleak"

	"switchboard/store"
	"switchboard/store/sqlite"
	"switchboard/store/storetest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func open(t testing.TB, path string, opts ...sqlite.Option) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), path, opts...)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	for _, d := range []sqlite.Durability{sqlite.Full, sqlite.Normal} {
		t.Run(string(d), func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) store.Store {
				return open(t, filepath.Join(t.TempDir(), "switchboard.db"), sqlite.WithDurability(d))
			})
		})
	}
}

func TestOpenRejectsUnknownDurability(t *testing.T) {
	_, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "x.db"), sqlite.WithDurability("sometimes"))
	if !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("want ErrInvalid, got %v", err)
	}
}

// TestOpenCreatesDirAndReopens checks the data directory is created and that
// a second open finds the data and does not re-apply migrations.
func TestOpenCreatesDirAndReopens(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data dir?#", "nested", "switchboard.db")
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	c, err := s.CreateConversation(t.Context(), store.Conversation{Channel: "sms"})
	if err != nil {
		t.Fatalf("CreateConversation: %v", err)
	}
	if _, err := os.Stat(path + "-wal"); err != nil {
		t.Errorf("no write-ahead log beside the database, want WAL mode: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database file: %v", err)
	}
	again := open(t, path)
	got, err := again.Conversation(t.Context(), c.ID)
	if err != nil || got.Channel != "sms" {
		t.Errorf("after reopening, Conversation = %+v, %v; want the stored one", got, err)
	}
}

// TestMigrationsRerun forgets that the migrations after the first were
// applied, so the next Open runs them over the schema they already built:
// they must be idempotent.
func TestMigrationsRerun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "switchboard.db")
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer db.Close()
	if _, err := db.ExecContext(t.Context(), `DELETE FROM schema_migrations WHERE version > 1`); err != nil {
		t.Fatalf("forget migrations: %v", err)
	}
	again := open(t, path)
	if _, err := again.HandoffsSince(t.Context(), time.Time{}, 0); err != nil {
		t.Errorf("HandoffsSince after re-running migrations: %v", err)
	}
	files, err := filepath.Glob(filepath.Join("migrations", "*.sql"))
	if err != nil || len(files) < 2 {
		t.Fatalf("migration files: %v, %v", files, err)
	}
	var n int
	if err := db.QueryRowContext(t.Context(), `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
		t.Fatalf("count migrations: %v", err)
	}
	if n != len(files) {
		t.Errorf("schema_migrations has %d rows, want one per migration file, %d", n, len(files))
	}
}

func TestOpenRejectsEmptyPath(t *testing.T) {
	if _, err := sqlite.Open(t.Context(), ""); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("Open(\"\") = %v, want ErrInvalid", err)
	}
}

func TestCanceledContext(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "switchboard.db"))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.CreateConversation(ctx, store.Conversation{Channel: store.ChannelWeb}); !errors.Is(err, context.Canceled) {
		t.Errorf("CreateConversation with a canceled context = %v, want context.Canceled", err)
	}
}

// BenchmarkAppendMessage measures the write every inbound message pays.
func BenchmarkAppendMessage(b *testing.B) {
	storetest.BenchAppendMessage(b, func(b *testing.B) store.Store { return open(b, filepath.Join(b.TempDir(), "bench.db")) })
}

// BenchmarkAppendLatency replays the web chat load's writes and reads at
// the shipped durability (normal); see storetest.BenchAppendLatency.
func BenchmarkAppendLatency(b *testing.B) {
	storetest.BenchAppendLatency(b, func(b *testing.B) store.Store {
		return open(b, filepath.Join(b.TempDir(), "bench.db"), sqlite.WithDurability(sqlite.Normal))
	})
}
