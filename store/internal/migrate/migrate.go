// Package migrate reads the numbered SQL files each store implementation
// embeds, so both apply their schema the same way: in order, each version once.
package migrate

import (
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
)

// Migration is one SQL file, named NNNN_what.sql.
type Migration struct {
	Version int
	Name    string
	SQL     string
	// AppliedIf is a query answering true when the migration's change is
	// already in the schema, or "". A file whose change cannot be written to
	// run twice (SQLite has no ADD COLUMN IF NOT EXISTS) names one in its
	// leading comments, on a line "-- applied if: <query>", so that applying
	// it again to a schema that has it is a no-op like any other migration.
	AppliedIf string
}

// Load returns the *.sql files in dir of fsys, ordered by version. Versions
// must be unique; a gap is allowed.
func Load(fsys fs.FS, dir string) ([]Migration, error) {
	names, err := fs.Glob(fsys, path.Join(dir, "*.sql"))
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	out := make([]Migration, 0, len(names))
	for _, name := range names {
		m, err := load(fsys, name)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b Migration) int { return a.Version - b.Version })
	for i := 1; i < len(out); i++ {
		if out[i].Version == out[i-1].Version {
			return nil, fmt.Errorf("migrations %s and %s share version %d", out[i-1].Name, out[i].Name, out[i].Version)
		}
	}
	return out, nil
}

func load(fsys fs.FS, name string) (Migration, error) {
	base := path.Base(name)
	num, _, ok := strings.Cut(base, "_")
	v, err := strconv.Atoi(num)
	if !ok || err != nil || v <= 0 {
		return Migration{}, fmt.Errorf("migration %s: name must start with a positive version and '_'", name)
	}
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return Migration{}, fmt.Errorf("migration %s: %w", name, err)
	}
	return Migration{Version: v, Name: base, SQL: string(b), AppliedIf: appliedIf(string(b))}, nil
}

// appliedIf returns the query of the "-- applied if:" line among the
// comments that open sql, or "".
func appliedIf(sql string) string {
	for line := range strings.Lines(sql) {
		line = strings.TrimSpace(line)
		comment, ok := strings.CutPrefix(line, "--")
		if !ok && line != "" {
			return "" // past the leading comments
		}
		if q, ok := strings.CutPrefix(strings.TrimSpace(comment), "applied if:"); ok {
			return strings.TrimSpace(q)
		}
	}
	return ""
}
