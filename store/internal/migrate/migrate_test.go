package migrate

import (
	"fmt"
	"testing"
	"testing/fstest"
)

func TestLoad(t *testing.T) {
	for _, tc := range []struct {
		name    string
		files   []string
		want    string // versions in order
		wantErr bool
	}{
		{"ordered by number, not name", []string{"0010_b.sql", "0002_a.sql", "0001_init.sql"}, "[1 2 10]", false},
		{"other files ignored", []string{"0001_init.sql", "README.md"}, "[1]", false},
		{"none", nil, "[]", false},
		{"duplicate version", []string{"0001_a.sql", "001_b.sql"}, "", true},
		{"no version", []string{"init.sql"}, "", true},
		{"zero version", []string{"0000_init.sql"}, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for _, f := range tc.files {
				fsys["migrations/"+f] = &fstest.MapFile{Data: []byte("-- " + f)}
			}
			ms, err := Load(fsys, "migrations")
			if (err != nil) != tc.wantErr {
				t.Fatalf("Load: error %v, want error: %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			versions := make([]int, len(ms))
			for i, m := range ms {
				versions[i] = m.Version
				if m.SQL != "-- "+m.Name {
					t.Errorf("%s: SQL %q, want the file's text", m.Name, m.SQL)
				}
			}
			if got := fmt.Sprint(versions); got != tc.want {
				t.Errorf("versions %s, want %s", got, tc.want)
			}
		})
	}
}

func TestLoadAppliedIf(t *testing.T) {
	for _, tc := range []struct {
		name, sql, want string
	}{
		{"in the leading comments", "-- Adds a column.\n--   applied if:  SELECT 1 \n\nALTER TABLE t ADD COLUMN c;", "SELECT 1"},
		{"none", "-- Adds an index.\nCREATE INDEX IF NOT EXISTS i ON t (c);", ""},
		{"after the first statement it is only a comment", "CREATE TABLE t (c);\n-- applied if: SELECT 1", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := fstest.MapFS{"migrations/0003_x.sql": &fstest.MapFile{Data: []byte(tc.sql)}}
			ms, err := Load(fsys, "migrations")
			if err != nil || len(ms) != 1 {
				t.Fatalf("Load = %v, %v", ms, err)
			}
			if ms[0].AppliedIf != tc.want || ms[0].SQL != tc.sql {
				t.Errorf("AppliedIf = %q (SQL %q), want %q and the whole file", ms[0].AppliedIf, ms[0].SQL, tc.want)
			}
		})
	}
}
