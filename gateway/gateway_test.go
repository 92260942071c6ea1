package gateway

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"switchboard/config"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fixture copies the shipped config and knowledge base to a folder the test
// can edit, and returns the config's path.
func fixture(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"switchboard.yaml", "knowledge.yaml"} {
		b, err := os.ReadFile(filepath.Join("..", "configs", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "switchboard.yaml")
}

func edit(t testing.TB, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		t.Fatalf("%s has no %q to edit", path, old)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(b), old, new, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
}

func start(t *testing.T, cfg string) (*Gateway, func() error) {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	g, err := New(context.Background(), Options{ConfigPath: cfg, HTTPAddr: "127.0.0.1:0", SIPAddr: "127.0.0.1:0", DataDir: t.TempDir()}, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	stop := func() error { cancel(); return <-done }
	t.Cleanup(func() { _ = stop })
	return g, stop
}

func get(t *testing.T, g *Gateway, path string) int {
	t.Helper()
	resp, err := http.Get("http://" + g.HTTPAddr() + path)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func TestReloadSwapsValidConfigAndKeepsOldOnError(t *testing.T) {
	cfg := fixture(t)
	g, stop := start(t, cfg)
	defer stop()

	edit(t, cfg, "level: balanced", "level: ai_first")
	if err := g.Reload(); err != nil {
		t.Fatalf("valid reload: %v", err)
	}
	if got := g.Config().Handoff.Level; got != "ai_first" {
		t.Fatalf("level after reload %q", got)
	}
	edit(t, cfg, "level: ai_first", "level: eager")
	err := g.Reload()
	var errs config.Errors
	if !asErrors(err, &errs) || !strings.Contains(err.Error(), "handoff.level") {
		t.Fatalf("invalid reload: %v", err)
	}
	if got := g.Config().Handoff.Level; got != "ai_first" {
		t.Errorf("a rejected reload changed the level to %q", got)
	}
	if code := get(t, g, "/healthz"); code != http.StatusOK {
		t.Errorf("/healthz %d", code)
	}
}

func TestReadyzFailsWhenTheStoreIsGone(t *testing.T) {
	g, stop := start(t, fixture(t))
	if code := get(t, g, "/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz %d before", code)
	}
	if err := g.Store().Close(); err != nil {
		t.Fatal(err)
	}
	if code := get(t, g, "/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz %d with the store closed, want 503", code)
	}
	_ = stop() // closing the store twice reports an error; the drain itself is what matters here
}

func TestRunDrainsOnCancel(t *testing.T) {
	_, stop := start(t, fixture(t))
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func asErrors(err error, target *config.Errors) bool { return errors.As(err, target) }

// TestDataDirIsRelativeToTheConfigFile: data_dir is found from the config
// file's folder wherever the gateway is started; --data from the working
// directory, like any path on a command line.
func TestDataDirIsRelativeToTheConfigFile(t *testing.T) {
	cfg := fixture(t)
	dir := filepath.Dir(cfg)
	orig, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	tests := []struct{ dataDir, flag, want string }{
		{"../data", "", filepath.Join(filepath.Dir(dir), "data")}, // the shipped value
		{"./state", "", filepath.Join(dir, "state")},
		{"/var/lib/switchboard", "", "/var/lib/switchboard"},
		{"./state", "elsewhere", "elsewhere"},
		{"./state", "/srv/data", "/srv/data"},
	}
	for _, tt := range tests {
		text := strings.Replace(string(orig), "data_dir: ../data", "data_dir: "+tt.dataDir, 1)
		if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := loadConfig(Options{ConfigPath: cfg, DataDir: tt.flag})
		if err != nil {
			t.Fatal(err)
		}
		if c.DataDir != tt.want {
			t.Errorf("data_dir %s, --data %q: data dir %s, want %s", tt.dataDir, tt.flag, c.DataDir, tt.want)
		}
	}
}

// TestStateLivesBesideTheConfigFile: started from another folder, the
// gateway keeps its SQLite file and generated secrets under the data_dir
// the config file names, not under the working directory.
func TestStateLivesBesideTheConfigFile(t *testing.T) {
	cfg := fixture(t)
	edit(t, cfg, "data_dir: ../data", "data_dir: ./state")
	wd := t.TempDir()
	t.Chdir(wd)
	t.Setenv("SWITCHBOARD_SECRET", "")
	t.Setenv("SWITCHBOARD_AGENT_TOKEN", "")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	g, err := New(context.Background(), Options{ConfigPath: cfg, HTTPAddr: "127.0.0.1:0", SIPAddr: "127.0.0.1:0"}, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := g.Run(ctx); err != nil {
		t.Fatalf("Run: %v", err)
	}
	state := filepath.Join(filepath.Dir(cfg), "state")
	for _, name := range []string{"switchboard.db", "secret", "agent-token"} {
		if _, err := os.Stat(filepath.Join(state, name)); err != nil {
			t.Errorf("%s not in the data dir beside the config: %v", name, err)
		}
	}
	if _, err := os.Stat(filepath.Join(wd, "state")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("state created under the working directory (%v)", err)
	}
}
