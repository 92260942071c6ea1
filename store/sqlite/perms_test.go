//go:build unix

package sqlite_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"switchboard/store"
)

// The database holds conversations, so it and its -wal and -shm files are
// the gateway user's alone (0600), even under a umask that would let
// everyone read them.
func TestNewDatabaseFilesArePrivate(t *testing.T) {
	old := syscall.Umask(0) // process-wide: this test must not run in parallel
	t.Cleanup(func() { syscall.Umask(old) })
	path := filepath.Join(t.TempDir(), "data", "switchboard.db")
	s := open(t, path)
	// A write makes SQLite create the write-ahead log and its index.
	if _, err := s.CreateConversation(t.Context(), store.Conversation{Channel: "web"}); err != nil {
		t.Fatalf("CreateConversation: %v", err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		info, err := os.Stat(p)
		if err != nil {
			t.Fatalf("stat %s: %v", filepath.Base(p), err)
		}
		if got := info.Mode().Perm(); got != 0o600 {
			t.Errorf("%s: mode %v, want %v", filepath.Base(p), got, fs.FileMode(0o600))
		}
	}
}

// An existing file keeps its mode: an operator may have chosen it.
func TestExistingDatabaseKeepsItsMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "switchboard.db")
	if err := os.WriteFile(path, nil, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o640); err != nil { // whatever the umask
		t.Fatal(err)
	}
	open(t, path)
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Mode().Perm(); got != 0o640 {
		t.Errorf("mode %v after Open, want the operator's %v", got, fs.FileMode(0o640))
	}
}
