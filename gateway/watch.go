package gateway

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// reloadDebounce lets an editor finish writing (many write in several
// steps, or rename a temp file over the original) before the reload.
const reloadDebounce = 250 * time.Millisecond

// watchConfig reloads the config when its file changes, until ctx ends.
// It watches the folder, not the file, so a file replaced by rename (as
// editors and config management do) is still seen.
func (g *Gateway) watchConfig(ctx context.Context) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watch config: %w", err)
	}
	path, err := filepath.Abs(g.opts.ConfigPath)
	if err != nil {
		w.Close()
		return fmt.Errorf("watch config: %w", err)
	}
	if err := w.Add(filepath.Dir(path)); err != nil {
		w.Close()
		return fmt.Errorf("watch config: %w", err)
	}
	go func() {
		defer w.Close()
		var debounce <-chan time.Time
		for {
			select {
			case <-ctx.Done():
				return
			case ev, ok := <-w.Events:
				if !ok {
					return
				}
				if filepath.Clean(ev.Name) == path && ev.Op&(fsnotify.Write|fsnotify.Create|fsnotify.Rename) != 0 {
					debounce = time.After(reloadDebounce)
				}
			case err, ok := <-w.Errors:
				if !ok {
					return
				}
				g.log.Warn("config watch", "error", err)
			case <-debounce:
				debounce = nil
				_ = g.Reload() // Reload logs and counts its own outcome
			}
		}
	}()
	return nil
}
