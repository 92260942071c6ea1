package sqlite

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"switchboard/store"
)

// pageSize is SQLite's default page size, which the store keeps.
const pageSize = 4096

// walPages is how many pages the WAL file of the database at path has room
// for: its size, which only a restart lets stop growing.
func walPages(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	return st.Size() / pageSize
}

// appendMessages appends n messages to a new conversation from workers
// goroutines, one after the other with no pause.
func appendMessages(t *testing.T, s *Store, n, workers int) store.ConversationID {
	t.Helper()
	c, err := s.CreateConversation(t.Context(), store.Conversation{Channel: store.ChannelWeb, Customer: "web visitor"})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				m := store.Message{ConversationID: c.ID, Role: store.RoleCustomer, Text: "where is my order?", IdempotencyKey: fmt.Sprint(i)}
				if _, _, err := s.AppendMessage(t.Context(), m); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	return c.ID
}

func openForTest(t *testing.T, path string, opts ...Option) *Store {
	t.Helper()
	s, err := Open(t.Context(), path, append([]Option{WithDurability(Normal)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// A commit never checkpoints: with no checkpointer the WAL keeps every
// page written, far past the 1,000 pages at which SQLite's automatic
// checkpoint would have run in the writer.
func TestWriterLeavesCheckpointsToTheCheckpointer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "switchboard.db")
	s := openForTest(t, path, withCheckpoints(0, 0))
	appendMessages(t, s, 1000, 1)
	if n := walPages(t, path); n < 3000 {
		t.Errorf("the WAL has room for %d pages after 1,000 messages; the writer checkpointed", n)
	}
}

// Writes that never pause leave a passive checkpoint no moment to finish,
// so the WAL could only grow; the checkpointer restarts it past its limit
// and it stays bounded, with every message kept.
func TestCheckpointerBoundsTheWALUnderSteadyWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "switchboard.db")
	s := openForTest(t, path, withCheckpoints(5*time.Millisecond, 200))
	const n = 3000 // about 15,000 pages written
	id := appendMessages(t, s, n, 4)
	if pages := walPages(t, path); pages > 5000 {
		t.Errorf("the WAL has room for %d pages after %d messages; it was not restarted", pages, n)
	}
	ms, err := s.Messages(t.Context(), id)
	if err != nil || len(ms) != n {
		t.Fatalf("Messages = %d, %v; want %d", len(ms), err, n)
	}
	// What the checkpoints copied reads back from the file alone.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	again := openForTest(t, path)
	if ms, err := again.Messages(context.Background(), id); err != nil || len(ms) != n {
		t.Errorf("after reopening: Messages = %d, %v; want %d", len(ms), err, n)
	}
}
