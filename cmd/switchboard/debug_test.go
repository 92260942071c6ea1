package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"testing"
	"time"
)

// Profiles are served on a loopback address and nowhere else, and only
// while the gateway runs.
func TestDebugServesProfilesOnLoopbackOnly(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:6060", "example.com:6060", "nonsense"} {
		if _, err := startDebug(t.Context(), addr, log); err == nil {
			t.Errorf("--debug %s was accepted; profiles must stay on loopback", addr)
		}
	}
	defer runtime.SetBlockProfileRate(0)
	defer runtime.SetMutexProfileFraction(0)
	ctx, cancel := context.WithCancel(t.Context())
	bound, err := startDebug(ctx, "127.0.0.1:0", log)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + bound.String() + "/debug/pprof/mutex?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || len(body) == 0 {
		t.Fatalf("mutex profile: %d, %d bytes", resp.StatusCode, len(body))
	}
	cancel()
	// The listener closes once ctx ended; poll for it with a deadline.
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		resp, err := http.Get("http://" + bound.String() + "/debug/pprof/")
		if err != nil {
			return
		}
		resp.Body.Close()
	}
	t.Error("profiles still served 5 s after the gateway stopped")
}
