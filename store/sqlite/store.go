// Package sqlite is the embedded store: one SQLite file under the data
// directory, serving a single Switchboard process.
//
// It keeps two connection pools on the file. All writes go through a pool of
// one connection, so writers queue in Go instead of failing with SQLITE_BUSY,
// and every transaction starts with BEGIN IMMEDIATE so it holds the write lock
// from its first read. Reads use a separate pool and, in WAL mode, run beside
// the writer. Both keep their statements prepared (prepared.go), and the
// writer leaves checkpoints to a connection of their own (checkpoint.go):
// whatever the one writer spends on a commit, every write waits for.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"switchboard/store"
	"switchboard/store/internal/keylock"
)

// Store is a store.Store on one SQLite file.
type Store struct {
	write *pool // exactly one connection: SQLite allows one writer at a time
	read  *pool // query_only connections for reads
	ckpt  *checkpointer
	locks keylock.Set
}

var _ store.Store = (*Store)(nil)

// pragmas apply to every connection. busy_timeout still matters with one
// writer: another process, or a WAL checkpoint, can hold the lock briefly.
const pragmas = "_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)"

// Durability is how hard a commit waits for the disk.
type Durability string

// Durabilities, as SQLite's synchronous setting in WAL mode.
const (
	// Full syncs the WAL on every commit: a commit survives a power cut.
	Full Durability = "full"
	// Normal syncs at checkpoints: a commit survives the process crashing
	// or being killed, and the file stays consistent on a power cut, which
	// may lose the last moments of commits. It spares one fsync per commit,
	// which under load is most of the single writer's time.
	Normal Durability = "normal"
)

// Option tunes Open.
type Option func(*openOptions)

type openOptions struct {
	durability Durability
	// checkpointEvery and restartFrames tune the checkpointer (see
	// checkpoint.go); every 0 runs none, for tests of the writer alone.
	checkpointEvery time.Duration
	restartFrames   int
}

// WithDurability sets how hard commits wait for the disk (default Full).
func WithDurability(d Durability) Option { return func(o *openOptions) { o.durability = d } }

// withCheckpoints tunes the checkpointer: a pass every every after commits,
// a restart past restart pages; every 0 runs no checkpointer.
func withCheckpoints(every time.Duration, restart int) Option {
	return func(o *openOptions) { o.checkpointEvery, o.restartFrames = every, restart }
}

// Open opens (creating if needed) the database file at path, creating its
// parent directory, and applies pending migrations.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	o := openOptions{durability: Full, checkpointEvery: checkpointEvery, restartFrames: restartFrames}
	for _, opt := range opts {
		opt(&o)
	}
	if o.durability != Full && o.durability != Normal {
		return nil, fmt.Errorf("sqlite: open: durability %q is not full or normal: %w", o.durability, store.ErrInvalid)
	}
	if path == "" {
		return nil, fmt.Errorf("sqlite: open: empty path: %w", store.ErrInvalid)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o750); err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	// Conversations are personal data: a new file is readable by the
	// gateway's user only, like the token files, whatever the umask. SQLite
	// gives the -wal and -shm files the database file's mode, so they follow.
	// An existing file keeps the mode it has.
	f, err := os.OpenFile(abs, os.O_RDONLY|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	s, err := open(ctx, abs, "_pragma=synchronous("+strings.ToUpper(string(o.durability))+")", o)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	return s, nil
}

func open(ctx context.Context, path, sync string, o openOptions) (*Store, error) {
	// The writer leaves checkpoints to the checkpointer.
	write, err := sql.Open("sqlite", dsn(path, "_txlock=immediate&_pragma=wal_autocheckpoint(0)&"+sync))
	if err != nil {
		return nil, err
	}
	write.SetMaxOpenConns(1)
	s := &Store{}
	s.write = newPool(write, s.wrote)
	// Migrate before the readers connect, so the file is in WAL mode and has
	// its tables by the time anyone reads.
	if err := s.migrate(ctx); err != nil {
		return nil, errors.Join(err, s.write.Close())
	}
	read, err := sql.Open("sqlite", dsn(path, "_pragma=query_only(1)"))
	if err != nil {
		return nil, errors.Join(err, s.write.Close())
	}
	// All of them stay open: a reader opened anew reads the schema first.
	n := max(4, runtime.NumCPU())
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	s.read = newPool(read, nil)
	if o.checkpointEvery > 0 {
		ckpt, err := sql.Open("sqlite", dsn(path, sync))
		if err != nil {
			return nil, errors.Join(err, s.read.Close(), s.write.Close())
		}
		ckpt.SetMaxOpenConns(1)
		s.ckpt = newCheckpointer(ckpt, s.write, o.checkpointEvery, o.restartFrames)
	}
	return s, nil
}

// wrote tells the checkpointer the WAL has grown.
func (s *Store) wrote() {
	if s.ckpt != nil {
		s.ckpt.committed()
	}
}

// dsn returns a file: URI for path, so that any character in the path
// (even '?' or '#') is escaped rather than read as part of the query.
func dsn(path, extra string) string {
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(path)}
	return u.String() + "?" + pragmas + "&" + extra
}

// Ping checks that both pools reach the file.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.read.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	if err := s.write.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	if s.ckpt != nil {
		if err := s.ckpt.lastErr(); err != nil {
			return fmt.Errorf("sqlite: ping: %w", err)
		}
	}
	return nil
}

// Close closes both pools.
func (s *Store) Close() error {
	var ckptErr error
	if s.ckpt != nil {
		ckptErr = s.ckpt.close()
	}
	if err := errors.Join(ckptErr, s.read.Close(), s.write.Close()); err != nil {
		return fmt.Errorf("sqlite: close: %w", err)
	}
	return nil
}
