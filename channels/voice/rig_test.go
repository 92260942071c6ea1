package voice_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"text/template"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"switchboard/channels/voice"
	"switchboard/config"
	"switchboard/dialog"
	"switchboard/dialog/dialogtest"
	"switchboard/media"
	_ "switchboard/media/g722"
	"switchboard/sip"
	"switchboard/speech"
	"switchboard/store"
)

// rig is a voice channel behind a real SIP server on loopback, with real
// flite and pocketsphinx, the shipped config's policy and a SQLite store.
type rig struct {
	core    *dialogtest.Core
	live    voice.Live
	reg     *prometheus.Registry
	sipAddr netip.AddrPort
	ports   *media.Ports
	pairs   int // in ports
}

// need fails or skips when a program the test drives is not installed.
func need(t testing.TB, progs ...string) {
	t.Helper()
	for _, p := range progs {
		if _, err := exec.LookPath(p); err != nil {
			if os.Getenv("SWITCHBOARD_NO_SKIP") != "" {
				t.Fatalf("%s is not installed (make test installs sip-tester, flite, pocketsphinx): %v", p, err)
			}
			t.Skipf("%s is not installed: %v", p, err)
		}
	}
}

// newRig starts the channel. fallback is the SIP URI of the support line;
// method how to reach it.
func newRig(t testing.TB, fallback, method string, edit func(*voice.Live)) *rig {
	t.Helper()
	return newRigWith(t, fallback, method, edit, providers{})
}

// providers replaces the rig's embedded AI parts; nil keeps each.
type providers struct {
	// responder gets the knowledge base, the config and the embedded
	// responder (see dialogtest.NewWith).
	responder func(*dialog.Knowledge, *config.Config, dialog.Responder) dialog.Responder
	stt       speech.STT
	tts       speech.TTS
	observe   func(time.Duration) // voice.Options.ObserveReply
}

// newRigWith is newRig with other providers.
func newRigWith(t testing.TB, fallback, method string, edit func(*voice.Live), p providers) *rig {
	t.Helper()
	need(t, "sipp", "flite", "pocketsphinx_continuous")
	core := dialogtest.NewWith(t, "balanced", nil, p.responder)
	cfg := *core.Config
	live := voice.Live{Voice: cfg.Channels.Voice, Handoff: cfg.Handoff, ConsoleURL: "http://127.0.0.1:8080/agent"}
	live.Handoff.Targets = map[string]config.Target{
		"agent_console": {Kind: "console"},
		"support_line":  {Kind: "sip", URI: fallback, Method: method, RingTimeout: 3 * time.Second},
	}
	live.Voice.MediaTimeout = 20 * time.Second
	live.Voice.ReferTimeout = 10 * time.Second
	if edit != nil {
		edit(&live)
	}
	log := slog.New(slog.NewTextHandler(newTestWriter(t), &slog.HandlerOptions{Level: slog.LevelDebug}))
	ports, err := media.NewPorts(netip.MustParseAddr("127.0.0.1"), 20000, 29998)
	if err != nil {
		t.Fatal(err)
	}
	stt := p.stt
	if stt == nil {
		if stt, err = speech.NewPocketsphinx(speech.PocketsphinxConfig{Log: log}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	tts := p.tts
	if tts == nil {
		if tts, err = speech.NewFlite(ctx, speech.FliteConfig{Voice: "slt", Log: log}); err != nil {
			t.Fatal(err)
		}
	}
	reg := prometheus.NewRegistry()
	ch := voice.New(voice.Options{Store: core.Store, Turns: core.Turns, Ports: ports, STT: stt, TTS: tts,
		Live: func() voice.Live { return live }, Metrics: voice.NewMetrics(reg), Log: log, ObserveReply: p.observe})
	srv, err := sip.NewServer(sip.Config{UDP: "127.0.0.1:0", Trunks: []sip.Trunk{{Name: "local", Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}},
		UserAgent: "Switchboard-test", MaxCalls: 100}, ch, reg, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen(ctx); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = srv.Serve(ctx) }()
	t.Cleanup(func() { cancel(); wg.Wait() })
	return &rig{core: core, live: live, reg: reg, sipAddr: netip.MustParseAddrPort(srv.Addr("udp")), ports: ports, pairs: ports.Free()}
}

// testWriter logs into the test until it ends. sipgo's transactions log
// from goroutines of their own that may outlive the test, and logging into
// a finished test is a data race in the testing package.
type testWriter struct {
	t    testing.TB
	mu   *sync.Mutex
	done *bool
}

func newTestWriter(t testing.TB) testWriter {
	w := testWriter{t: t, mu: &sync.Mutex{}, done: new(bool)}
	t.Cleanup(func() { w.mu.Lock(); *w.done = true; w.mu.Unlock() })
	return w
}

func (w testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !*w.done {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

// nextBlock numbers the blocks of 8 UDP ports freeUDPPort hands out from
// 11000-15999: below the kernel's ephemeral range (32768 and up), so that no
// other socket on the machine takes a port between our check and sipp
// binding it. The sip package's tests use 16000-16999, baresip 17000-17998,
// the rig's RTP 20000-29998.
var nextBlock atomic.Int32

// freeUDPPort returns the first port of a block of 8 free loopback ports
// (sipp binds -mp, -mp+2 and -mp+4).
func freeUDPPort(t testing.TB) int {
	t.Helper()
	for {
		base := 11000 + 8*int(nextBlock.Add(1)-1)
		if base+8 > 16000 {
			t.Fatal("test port range 11000-15999 exhausted")
		}
		if bindable(base, base+2, base+4) {
			return base
		}
	}
}

func bindable(ports ...int) bool {
	for _, p := range ports {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p})
		if err != nil {
			return false
		}
		c.Close()
	}
	return true
}

// scenario renders a template from testdata/sipp into the test's folder.
func scenario(t testing.TB, name string, data any) string {
	t.Helper()
	tmpl, err := template.ParseFiles(filepath.Join("..", "..", "testdata", "sipp", name))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := tmpl.Execute(&b, data); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), strings.TrimSuffix(name, ".tmpl"))
	if err := os.WriteFile(out, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// sippRun is one sipp process.
type sippRun struct {
	cmd      *exec.Cmd
	out      bytes.Buffer
	messages string // sipp's message trace
	done     chan error
}

// startSipp runs sipp with the scenario against target (a UAC) or, with
// target "", as a server on port.
func startSipp(t testing.TB, scen, target string, port int, extra ...string) *sippRun {
	t.Helper()
	dir := t.TempDir()
	scen, err := filepath.Abs(scen)
	if err != nil {
		t.Fatal(err)
	}
	r := &sippRun{messages: filepath.Join(dir, "messages.log"), done: make(chan error, 1)}
	args := []string{"-sf", scen, "-i", "127.0.0.1", "-p", fmt.Sprint(port), "-m", "1", "-nostdin",
		"-timeout", "90s", "-timeout_error", "-trace_msg", "-message_file", r.messages,
		"-trace_err", "-error_file", filepath.Join(dir, "errors.log"), "-s", "support",
		"-mp", fmt.Sprint(freeUDPPort(t))}
	args = append(args, extra...)
	if target != "" {
		args = append([]string{target}, args...)
	}
	r.cmd = exec.Command("sipp", args...)
	r.cmd.Dir = filepath.Join("..", "..", "testdata", "audio")
	r.cmd.Stdout, r.cmd.Stderr = &r.out, &r.out
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.done <- r.cmd.Wait() }()
	t.Cleanup(func() {
		_ = r.cmd.Process.Kill()
		<-r.done
	})
	return r
}

// wait waits for sipp to finish and fails the test unless it passed.
func (r *sippRun) wait(t testing.TB, d time.Duration) {
	t.Helper()
	select {
	case err := <-r.done:
		r.done <- err // for Cleanup
		if err != nil {
			t.Fatalf("sipp failed: %v\n%s\nmessages:\n%s", err, tail(r.out.String(), 3000), r.trace())
		}
	case <-time.After(d):
		t.Fatalf("sipp did not finish within %v\nmessages:\n%s", d, r.trace())
	}
}

func (r *sippRun) trace() string {
	b, _ := os.ReadFile(r.messages)
	return tail(string(b), 6000)
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// conversation returns the single voice conversation of the rig's store.
func (r *rig) conversation(t testing.TB) (store.Conversation, []store.Message, []store.Handoff) {
	t.Helper()
	ctx := context.Background()
	convs, err := r.core.Store.ListConversations(ctx, store.ListFilter{})
	if err != nil || len(convs) != 1 {
		t.Fatalf("conversations = %v, %v; want one", convs, err)
	}
	msgs, err := r.core.Store.Messages(ctx, convs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	hs, err := r.core.Store.Handoffs(ctx, convs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	return convs[0], msgs, hs
}

// portsWhole waits until every RTP port pair of the rig's calls, their
// transfer legs' included, is back in the pool.
func (r *rig) portsWhole(t testing.TB) {
	t.Helper()
	eventually(t, "every RTP port pair back in the pool", func() bool { return r.ports.Free() == r.pairs })
}

// eventually polls cond until it holds or the (generous) deadline passes.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("never happened: %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var _ = io.Discard
