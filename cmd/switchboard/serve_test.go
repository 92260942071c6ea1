package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// server is the real binary, started as a user would start it.
type server struct {
	cmd  *exec.Cmd
	addr string
	mu   sync.Mutex
	logs []map[string]any
	seen chan struct{} // ticks on every log line
	done chan error
}

func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "switchboard")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// configDir copies the shipped config and knowledge base into a folder the
// test may edit.
func configDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"switchboard.yaml", "knowledge.yaml"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "configs", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func startServer(t *testing.T, bin, cfg string) *server {
	t.Helper()
	return launch(t, exec.Command(bin, "serve", "--config", cfg, "--http", "127.0.0.1:0", "--sip", "127.0.0.1:0", "--data", t.TempDir()))
}

// launch starts a serve command, reads its JSON log and waits until the
// gateway has started.
func launch(t *testing.T, cmd *exec.Cmd) *server {
	t.Helper()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, seen: make(chan struct{}, 1000), done: make(chan error, 1)}
	go s.readLogs(stderr)
	t.Cleanup(func() {
		_ = cmd.Process.Kill() // already gone when the test stopped it
		<-s.done
	})
	s.waitLog(t, "switchboard started", func(l map[string]any) { s.addr, _ = l["http"].(string) })
	return s
}

func (s *server) readLogs(r io.Reader) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		var l map[string]any
		if json.Unmarshal(sc.Bytes(), &l) != nil {
			l = map[string]any{"msg": sc.Text()}
		}
		s.mu.Lock()
		s.logs = append(s.logs, l)
		s.mu.Unlock()
		s.seen <- struct{}{}
	}
	s.done <- s.cmd.Wait()
}

// waitLog waits for a log line with msg, and hands it to f.
func (s *server) waitLog(t *testing.T, msg string, f func(map[string]any)) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for i := 0; ; {
		s.mu.Lock()
		for ; i < len(s.logs); i++ {
			if s.logs[i]["msg"] == msg {
				l := s.logs[i]
				s.mu.Unlock()
				if f != nil {
					f(l)
				}
				return
			}
		}
		s.mu.Unlock()
		select {
		case <-s.seen:
		case <-deadline:
			t.Fatalf("no log %q; got %v", msg, s.logs)
		}
	}
}

func (s *server) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + s.addr + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServeHealthMetricsReloadAndShutdown(t *testing.T) {
	bin := buildBinary(t)
	dir := configDir(t)
	cfg := filepath.Join(dir, "switchboard.yaml")
	s := startServer(t, bin, cfg)

	if code, body := s.get(t, "/healthz"); code != 200 || !strings.Contains(body, `"ok"`) {
		t.Errorf("/healthz: %d %s", code, body)
	}
	if code, body := s.get(t, "/readyz"); code != 200 || !strings.Contains(body, "ready") {
		t.Errorf("/readyz: %d %s", code, body)
	}
	if code, body := s.get(t, "/metrics"); code != 200 || !strings.Contains(body, "switchboard_handoffs_total") && !strings.Contains(body, "go_goroutines") {
		t.Errorf("/metrics: %d", code)
	}

	// A change of the file reloads it.
	orig, _ := os.ReadFile(cfg)
	changed := strings.Replace(string(orig), "level: balanced", "level: quick", 1)
	if err := os.WriteFile(cfg, []byte(changed), 0o600); err != nil {
		t.Fatal(err)
	}
	s.waitLog(t, "config reloaded", func(l map[string]any) {
		if l["handoff_level"] != "quick" {
			t.Errorf("reloaded level %v, want quick", l["handoff_level"])
		}
	})

	// An invalid file is rejected on SIGHUP and the gateway keeps serving.
	bad := strings.Replace(changed, "level: quick", "level: fast", 1)
	if err := os.WriteFile(cfg, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	s.waitLog(t, "config reload rejected; keeping the previous config", func(l map[string]any) {
		if e, _ := l["error"].(string); !strings.Contains(e, fmt.Sprintf("%s:%d: handoff.level", cfg, lineOf(bad, "level: fast"))) {
			t.Errorf("rejection should name file:line:key, got %q", e)
		}
	})
	if code, _ := s.get(t, "/healthz"); code != 200 {
		t.Errorf("not serving after a rejected reload: %d", code)
	}
	if _, body := s.get(t, "/metrics"); !strings.Contains(body, `switchboard_config_reloads_total{result="error"}`) {
		t.Errorf("rejected reload not counted")
	}

	// SIGTERM drains and exits cleanly.
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	s.waitLog(t, "switchboard stopped", nil)
	if err := <-s.done; err != nil {
		t.Errorf("exit after SIGTERM: %v", err)
	}
	s.done <- nil // for the cleanup
}

func TestServeRefusesInvalidConfig(t *testing.T) {
	bin := buildBinary(t)
	dir := configDir(t)
	cfg := filepath.Join(dir, "switchboard.yaml")
	orig, _ := os.ReadFile(cfg)
	if err := os.WriteFile(cfg, []byte(strings.Replace(string(orig), "data_dir: ../data", "data_dir: ../data\nbogus: 1", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "serve", "--config", cfg, "--http", "127.0.0.1:0").CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("want exit 1, got %v", err)
	}
	if !strings.Contains(string(out), "bogus: unknown key") || !strings.Contains(string(out), "will not start") {
		t.Errorf("output: %s", out)
	}
}

func TestCheckConfigExitStatus(t *testing.T) {
	bin := buildBinary(t)
	cfg := filepath.Join(configDir(t), "switchboard.yaml")
	if out, err := exec.Command(bin, "check-config", cfg).CombinedOutput(); err != nil {
		t.Fatalf("valid config: %v\n%s", err, out)
	}
	orig, _ := os.ReadFile(cfg)
	bad := strings.Replace(string(orig), "level: balanced", "level: fast", 1)
	bad = strings.Replace(bad, "ring_timeout: 30s", "ring_timeout: soon", 1)
	if err := os.WriteFile(cfg, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "check-config", cfg).CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("want exit 1, got %v", err)
	}
	if !strings.Contains(string(out), fmt.Sprintf("%s:%d: handoff.targets.support_line.ring_timeout:", cfg, lineOf(bad, "ring_timeout: soon"))) {
		t.Errorf("output:\n%s", out)
	}
}
