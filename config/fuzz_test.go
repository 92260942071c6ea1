package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary bytes to the config parser: it must never panic,
// and every error it returns must name the file.
func FuzzParse(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join("..", "configs", "switchboard.yaml")); err == nil {
		f.Add(b)
	}
	f.Add([]byte("listen: {http: ':1'}\n"))
	f.Add([]byte("a: &x [*x]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("fuzz.yaml", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if cfg == nil {
			t.Fatal("nil config without error")
		}
	})
}
