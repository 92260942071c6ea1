package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"
)

// Checkpoints copy the pages the WAL holds into the database file and sync
// both files: on a busy disk, tens of milliseconds. SQLite's automatic
// checkpoint runs inside the commit that took the WAL past 1,000 pages, on
// the committing connection, which here is the one writer: every write
// queued behind it waited, several times a second under load, and that
// made the web chat's tail. So the writer never checkpoints
// (wal_autocheckpoint=0) and the checkpointer does it on a connection of its
// own, in PASSIVE mode: it waits for no writer and no writer waits for it.
//
// A WAL is only written again from its start once a checkpoint has copied
// all of it, and while commits never pause the passes never quite catch
// up: the file would grow for as long as the load lasts. So once the WAL is
// longer than restartFrames, the checkpointer holds the writer for a moment
// and checkpoints with RESTART there. The pass just before has copied
// nearly everything, so the writer waits for the little written since,
// about once in restartFrames pages instead of once in 1,000.
const (
	// checkpointEvery is how long commits gather before a pass copies them.
	checkpointEvery = 250 * time.Millisecond
	// restartFrames is the WAL length, in pages (4 KiB), past which the
	// checkpointer restarts it: 64 MiB.
	restartFrames = 16384
	// restartWait bounds how long a restart holds the writer.
	restartWait = 100 * time.Millisecond
)

// checkpointer runs the checkpoints; see above.
type checkpointer struct {
	db        *sql.DB // a connection of its own
	write     *pool
	every     time.Duration
	restartAt int
	wrote     chan struct{} // a commit since the last pass; holds one

	stop context.CancelFunc
	done chan struct{}

	mu  sync.Mutex
	err error // of the last pass; Ping reports it
}

func newCheckpointer(db *sql.DB, write *pool, every time.Duration, restartAt int) *checkpointer {
	ctx, stop := context.WithCancel(context.Background())
	c := &checkpointer{db: db, write: write, every: every, restartAt: restartAt,
		wrote: make(chan struct{}, 1), stop: stop, done: make(chan struct{})}
	go c.run(ctx)
	return c
}

// committed tells the checkpointer the WAL has grown. It never blocks.
func (c *checkpointer) committed() {
	select {
	case c.wrote <- struct{}{}:
	default:
	}
}

// run checkpoints after commits, at most once every c.every, until close.
// A pass that failed is tried again without waiting for a commit.
func (c *checkpointer) run(ctx context.Context) {
	defer close(c.done)
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.wrote:
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(c.every):
		}
		err := c.pass(ctx)
		if ctx.Err() != nil {
			return
		}
		c.mu.Lock()
		c.err = err
		c.mu.Unlock()
		if err != nil {
			c.committed()
		}
	}
}

// pass copies what the WAL holds beside the writer, and restarts a WAL
// grown past c.restartAt.
func (c *checkpointer) pass(ctx context.Context) error {
	frames, err := checkpoint(ctx, c.db, "PASSIVE")
	if err != nil || frames < c.restartAt {
		return err
	}
	conn, err := c.write.Conn(ctx) // waits for the write under way, holds off the next
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	defer conn.Close()
	// RESTART waits for the readers still on the WAL; the writer waits
	// meanwhile, so not for long: a slow read leaves it for a later pass.
	rctx, cancel := context.WithTimeout(ctx, restartWait)
	defer cancel()
	_, err = checkpoint(rctx, conn, "RESTART")
	if rctx.Err() != nil && ctx.Err() == nil {
		return nil
	}
	return err
}

// checkpoint runs a checkpoint in mode and returns the WAL's length in pages.
func checkpoint(ctx context.Context, q queryRower, mode string) (int, error) {
	var busy, frames, copied int
	if err := q.QueryRowContext(ctx, "PRAGMA wal_checkpoint("+mode+")").Scan(&busy, &frames, &copied); err != nil {
		return 0, fmt.Errorf("checkpoint (%s): %w", mode, err)
	}
	return frames, nil
}

// lastErr is the error of the last pass, nil when it succeeded.
func (c *checkpointer) lastErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// close stops the checkpointer and closes its connection; closing the
// store's last connection checkpoints what is left.
func (c *checkpointer) close() error {
	c.stop()
	<-c.done
	return c.db.Close()
}
