package sqlite_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"

	"switchboard/store"
	"switchboard/store/sqlite"
	"switchboard/store/storetest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func open(t testing.TB, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), path)
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
	storetest.Run(t, func(t *testing.T) store.Store {
		return open(t, filepath.Join(t.TempDir(), "switchboard.db"))
	})
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

func TestOpenRejectsEmptyPath(t *testing.T) {
	if _, err := sqlite.Open(t.Context(), ""); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("Open(\"\") = %v, want ErrInvalid", err)
	}
}

func TestCanceledContext(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "switchboard.db"))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.CreateConversation(ctx, store.Conversation{}); !errors.Is(err, context.Canceled) {
		t.Errorf("CreateConversation with a canceled context = %v, want context.Canceled", err)
	}
}

// BenchmarkAppendMessage measures the write every inbound message pays.
func BenchmarkAppendMessage(b *testing.B) {
	storetest.BenchAppendMessage(b, func(b *testing.B) store.Store { return open(b, filepath.Join(b.TempDir(), "bench.db")) })
}
