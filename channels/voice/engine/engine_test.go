package engine_test

import (
	"context"
	"errors"
	"fmt"
	"go/build"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"switchboard/channels/voice/engine"
	"switchboard/config"
	"switchboard/dialog/dialogtest"
	"switchboard/speech"
	"switchboard/store"
)

// Every call a test runs must be gone when it ends: the owner loop, the
// worker, the speaker and the transfer.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// rig is an engine on the shipped config's policy and a SQLite store, with
// a recogniser that hears "where is my order" and a tone for a voice.
type rig struct {
	core *dialogtest.Core
	e    *engine.Engine
	cfg  engine.Config
	stt  *heardSTT
}

const fallbackURI = "sip:support-desk@127.0.0.1:5999"

// calls numbers the calls the tests make, for their thread keys.
var calls atomic.Int64

// newRig reaches the support line by method.
func newRig(t *testing.T, method string) *rig {
	t.Helper()
	core := dialogtest.New(t, "balanced", nil)
	cfg := engine.Config{Voice: core.Config.Channels.Voice, Handoff: core.Config.Handoff}
	cfg.Handoff.Targets = map[string]config.Target{
		"support_line": {Kind: "sip", URI: fallbackURI, Method: method, RingTimeout: 3 * time.Second},
	}
	stt := &heardSTT{text: "where is my order"}
	e := engine.New(engine.Options{Store: core.Store, Turns: core.Turns, STT: stt, TTS: toneTTS{},
		Metrics: engine.NewMetrics(prometheus.NewRegistry())})
	return &rig{core: core, e: e, cfg: cfg, stt: stt}
}

// run starts a call on line in a conversation of its own; the channel
// gets Run's result.
func (r *rig) run(ctx context.Context, t *testing.T, line engine.Line) (store.ConversationID, <-chan error) {
	t.Helper()
	conv, err := r.core.Store.CreateConversation(ctx, store.Conversation{Channel: store.ChannelVoice,
		Customer: "+15551230001", ThreadKey: fmt.Sprintf("mem-%d", calls.Add(1))})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- r.e.Run(ctx, engine.Call{Line: line, Conversation: conv, Config: r.cfg}) }()
	return conv.ID, done
}

func (r *rig) transcript(t *testing.T, id store.ConversationID) string {
	t.Helper()
	msgs, err := r.core.Store.Messages(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, m := range msgs {
		b.WriteString(string(m.Role) + ": " + m.Text + "\n")
	}
	return b.String()
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("never happened: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func wait(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("the call did not end")
		return nil
	}
}

// question is "Where is my order?" at 16 kHz on a line with a little
// noise: half a second before the speech, a second after.
func question(t *testing.T) []int16 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "testdata", "audio", "where_order.wav"))
	if err != nil {
		t.Fatal(err)
	}
	a, err := speech.DecodeWAV(b)
	if err != nil || a.Rate != 16000 {
		t.Fatalf("where_order.wav: rate %d, %v", a.Rate, err)
	}
	pcm := slices.Concat(make([]int16, 8000), a.PCM, make([]int16, 16000))
	noise := rand.New(rand.NewPCG(1, 2))
	for i := range pcm {
		pcm[i] += int16(noise.IntN(37) - 18)
	}
	return pcm
}

// The engine needs nothing SIP: on a line in memory it greets, hears the
// caller's words at the recogniser's rate, answers them, takes the
// handoff digit and transfers by the line's own REFER, then hangs up.
func TestEngineTalksOnAnInMemoryLine(t *testing.T) {
	r := newRig(t, "refer")
	line := newMemLine(16000)
	var referred []engine.Transfer
	line.refer = func(_ context.Context, tr engine.Transfer) error {
		referred = append(referred, tr)
		return nil
	}
	id, done := r.run(t.Context(), t, line)
	eventually(t, "the greeting to play", func() bool { played, _, _, _ := line.counts(); return played > 0 })

	if err := line.say(t.Context(), question(t)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "an answer to the question", func() bool {
		tr := r.transcript(t, id)
		i := strings.Index(tr, "customer: where is my order")
		return i >= 0 && strings.Contains(tr[i:], "\nai: ")
	})
	line.dtmf <- '0'
	if err := wait(t, done); err != nil {
		t.Fatalf("Run = %v", err)
	}

	tr := r.transcript(t, id)
	for _, want := range []string{"pressed 0", "Transferred to support_line (" + fallbackURI + ") by REFER"} {
		if !strings.Contains(tr, want) {
			t.Errorf("transcript lacks %q:\n%s", want, tr)
		}
	}
	if len(referred) != 1 || referred[0].Target.URI != fallbackURI || referred[0].Handoff.Trigger != "explicit_request" {
		t.Errorf("referred %+v, want one REFER to the support line for the caller's request", referred)
	}
	if _, _, hangups, _ := line.counts(); hangups == 0 {
		t.Error("the engine did not hang up the line after the REFER")
	}
	r.stt.mu.Lock()
	defer r.stt.mu.Unlock()
	if len(r.stt.rates) == 0 || slices.ContainsFunc(r.stt.rates, func(rate int) bool { return rate != 16000 }) {
		t.Errorf("recogniser streams at %v Hz, want 16000", r.stt.rates)
	}
	if len(r.stt.frames) != 1 || !r.stt.frames[320] {
		t.Errorf("recogniser frame lengths %v, want only 320 (20 ms at 16 kHz)", r.stt.frames)
	}
}

// A leg that answers the engine's Dial is bridged to the caller: audio and
// digits cross in both directions, at each side's rate, and when the leg
// hangs up the engine hangs up the caller and frees the leg.
func TestEngineBridgesALegThatAnswers(t *testing.T) {
	r := newRig(t, "refer_then_bridge")
	line, leg := newMemLine(16000), newMemLine(8000)
	line.dial = func(context.Context, engine.Transfer) (engine.Leg, error) { return leg, nil }
	id, done := r.run(t.Context(), t, line)
	line.dtmf <- '0'
	eventually(t, "the bridge", func() bool { return strings.Contains(r.transcript(t, id), "Bridged to support_line") })

	if err := line.say(t.Context(), tone(16000, 3200)); err != nil {
		t.Fatal(err)
	}
	if err := leg.say(t.Context(), tone(8000, 1600)); err != nil {
		t.Fatal(err)
	}
	leg.dtmf <- '5'
	eventually(t, "the leg's digit at the caller", func() bool { _, _, _, sent := line.counts(); return slices.Contains(sent, '5') })
	leg.end(errors.New("the fallback hung up"))
	if err := wait(t, done); err != nil {
		t.Fatalf("Run = %v", err)
	}

	if _, live, _, _ := leg.counts(); live != 1600 {
		t.Errorf("the leg got %d samples of the caller at 8 kHz, want 1600", live)
	}
	if _, live, hangups, _ := line.counts(); live != 3200 || hangups == 0 {
		t.Errorf("the caller got %d samples of the leg at 16 kHz (want 3200) and %d hang-ups (want some)", live, hangups)
	}
	if _, _, hangups, _ := leg.counts(); hangups == 0 {
		t.Error("the leg was not hung up, so its media was not freed")
	}
	if tr := r.transcript(t, id); strings.Contains(tr, "REFER") {
		t.Errorf("a line without REFER goes straight to the bridge, with no failed REFER in the transcript:\n%s", tr)
	}
}

// The engine is the one call loop every line shares; it must not grow a
// dependency on a line's protocol.
func TestEngineImportsNoLineProtocol(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range pkg.Imports {
		if imp == "switchboard/sip" || strings.HasPrefix(imp, "switchboard/channels/") || strings.Contains(imp, "sipgo") ||
			strings.Contains(imp, "pion") {
			t.Errorf("package engine imports %s", imp)
		}
	}
}
