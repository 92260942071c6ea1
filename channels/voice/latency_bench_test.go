package voice_test

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"switchboard/config"
	"switchboard/dialog/openaitest"
	"switchboard/speech"
)

// Provider delays the local OpenAI-wire server adds to every voice turn:
// what a real model and speech service would take. Switchboard's own share
// of a turn is what is left when they and the end-of-speech detection are
// subtracted.
const (
	benchSTTDelay    = 100 * time.Millisecond
	benchChatDelay   = 200 * time.Millisecond
	benchSpeechDelay = 100 * time.Millisecond
	benchCalls       = 4
	benchTurns       = 30 // per call
	// benchEmbeddedCalls: one question each, one call after another.
	benchEmbeddedCalls = 12
	// benchTone is the reply's audio: short, so that turns come quickly.
	benchTone = 200 * time.Millisecond
)

// BenchmarkVoiceTurnLatency measures voice turns from outside, on the
// wire. benchCalls calls, set up by sipp (signalling only), each carry the
// audio of a Go RTP caller: G.722 line noise every 20 ms, and benchTurns
// times "Where is my order?" in it. Recognition, the model and speech go
// through the local OpenAI-wire server with the delays above. Per turn:
//
//   - total: from the last caller packet with speech in it leaving (the end
//     of caller speech) to the first packet of the reply arriving;
//   - detection: from the end of caller speech to the gateway's VAD
//     hearing the utterance end (end_of_speech from the config, plus the
//     fade of the voice);
//   - own: total less detection and the provider delays.
//
// The embedded sub-benchmark runs the shipped defaults instead (real
// pocketsphinx, the embedded responder, flite), benchEmbeddedCalls calls
// of one question each; their time after detection is reported whole.
//
// make bench runs it with -benchtime 1x.
func BenchmarkVoiceTurnLatency(b *testing.B) {
	b.Run("openai", func(b *testing.B) {
		for range b.N {
			reportTurns(b, openAIStack(b))
		}
	})
	b.Run("embedded", func(b *testing.B) {
		for range b.N {
			reportTurns(b, embeddedStack(b))
		}
	})
}

// benchRun is one stack's calls: how many, with how many turns each, and
// how far apart; providerTime is what the providers are known to take
// (subtracted for the own share; 0 when they are local and not separable).
type benchRun struct {
	calls, turns int
	period       time.Duration // between turns of a call
	stagger      time.Duration // between the calls' first turns
	providerTime time.Duration
}

// openAIStack: benchCalls calls of benchTurns turns, everything through
// the local OpenAI-wire server with the delays above.
func openAIStack(b *testing.B) benchResult {
	ai := benchProviders(b, benchCalls*benchTurns)
	sc := config.Speech{Kind: "openai", BaseURL: ai.URL, Model: "bench", APIKeyEnv: "SB_VOICE_OPENAI_KEY",
		Timeout: 10 * time.Second, Voice: "alloy", Format: "pcm", MaxParallel: 4}
	client := speech.WithHTTPClient(ai.Config().HTTPClient.(*http.Client))
	stt, err := speech.NewOpenAISTT(sc, nil, client)
	if err != nil {
		b.Fatal(err)
	}
	tts, err := speech.NewOpenAITTS(sc, nil, client)
	if err != nil {
		b.Fatal(err)
	}
	provider := benchSTTDelay + benchChatDelay + benchSpeechDelay
	return voiceTurns(b, providers{responder: chatVia(b, ai), stt: stt, tts: tts}, func(q question, eos time.Duration) benchRun {
		// A turn: the question, the end-of-speech silence, the providers,
		// the reply and 700 ms to spare. The calls are staggered by a
		// quarter of it, so that their ends of speech are far apart (see
		// hookMatcher).
		period := q.duration() + eos + provider + benchTone + 700*time.Millisecond
		return benchRun{calls: benchCalls, turns: benchTurns, period: period, stagger: period / benchCalls, providerTime: provider}
	})
}

// embeddedStack: the shipped defaults (pocketsphinx, the embedded
// responder, flite), one question per call (the same question again would
// be, rightly, a failed turn), benchEmbeddedCalls calls one after another.
func embeddedStack(b *testing.B) benchResult {
	return voiceTurns(b, providers{}, func(q question, eos time.Duration) benchRun {
		period := q.duration() + eos + 1500*time.Millisecond
		return benchRun{calls: benchEmbeddedCalls, turns: 1, period: period, stagger: period}
	})
}

// benchResult is a run's turns and what its providers took.
type benchResult struct {
	turns []*turnTiming
	run   benchRun
}

func voiceTurns(b *testing.B, p providers, plan func(question, time.Duration) benchRun) benchResult {
	hooks := &hookMatcher{pending: map[int]*turnTiming{}}
	p.observe = hooks.observe
	r := newRigWith(b, "sip:support-desk@127.0.0.1:5999", "refer", nil, p)
	eos := r.live.Voice.EndOfSpeech
	q := loadQuestion(b)
	run := plan(q, eos)
	hooks.expected, hooks.tolerance = eos, run.stagger/2
	b.Logf("end_of_speech %v, question %v (speech ends at %v), %d calls of %d turns, turn every %v, calls %v apart",
		eos, q.duration(), time.Duration(q.last+1)*frameTime, run.calls, run.turns, run.period, run.stagger)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		turns []*turnTiming
		sipps []*sippRun
	)
	for k := range run.calls {
		c, port := newRTPCaller(b, k, q, hooks)
		s := schedule{first: 1500*time.Millisecond + time.Duration(k)*run.stagger, period: run.period, turns: run.turns,
			phase: time.Duration(2*k+1) * frameTime / time.Duration(2*run.calls)}
		bye := s.first + time.Duration(run.turns)*run.period + time.Second
		scen := scenario(b, "voice_signalling.xml.tmpl", signalling{From: fmt.Sprintf("+1555123%04d", k+1),
			MediaPort: port, ByeAfterMs: int(bye / time.Millisecond)})
		sipps = append(sipps, startSipp(b, scen, r.sipAddr.String(), freeUDPPort(b),
			"-timeout", fmt.Sprintf("%ds", int((bye+30*time.Second).Seconds()))))
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := c.run(ctx, s)
			mu.Lock()
			turns = append(turns, t...)
			mu.Unlock()
		}()
	}
	for _, s := range sipps {
		s.wait(b, time.Duration(run.calls*run.turns)*run.period+time.Minute)
	}
	cancel()
	wg.Wait()
	hooks.mu.Lock() // the hook's writes to the turns happen under it
	defer hooks.mu.Unlock()
	if hooks.stray > 0 {
		b.Logf("%d ObserveReply calls matched no turn", hooks.stray)
	}
	return benchResult{turns: turns, run: run}
}

// benchProviders starts the local OpenAI-wire server with n turns queued.
func benchProviders(b *testing.B, n int) *openaitest.Server {
	ai := openaitest.New(b)
	b.Setenv("SB_VOICE_OPENAI_KEY", "test-key")
	// Every transcript and answer different: no question asked again (the
	// policy would take that for a failed turn and transfer the call; the
	// shipped config runs voice at quick, whatever the handoff level), and
	// no reply from the synthesiser's cache without the speech delay. The
	// transcript queue is shared by the calls: each gets whichever comes
	// next. Some spare, should the VAD cut a question in two.
	colours := []string{"green", "red", "blue", "white", "black", "grey", "yellow", "orange", "pink", "brown", "purple", "beige"}
	things := []string{"sofa", "armchair", "bookcase", "wardrobe", "mattress", "lamp", "rug", "desk", "stool", "mirror", "curtain", "duvet"}
	if n+20 > len(colours)*len(things) {
		b.Fatalf("%d turns, %d distinct questions", n+20, len(colours)*len(things))
	}
	for i := range n + 20 {
		ai.QueueTranscription(fmt.Sprintf("Do you have a %s %s?", colours[i%len(colours)], things[i/len(colours)]), benchSTTDelay)
		ai.QueueChat(openaitest.ChatReply{Content: []string{fmt.Sprintf("Here is answer number %d.", i+1)}, Delay: benchChatDelay})
	}
	tone := make([]int16, int(benchTone.Seconds()*24000))
	for i := range tone {
		tone[i] = int16(6000 * math.Sin(2*math.Pi*440*float64(i)/24000))
	}
	ai.SetSpeech(tone, 24000, benchSpeechDelay)
	return ai
}

// signalling fills testdata/sipp/voice_signalling.xml.tmpl.
type signalling struct {
	From       string
	MediaPort  int
	ByeAfterMs int
}

// hookMatcher hands each ObserveReply call to the turn it times. The hook
// says only how long ago the VAD heard an utterance end, not on which call;
// within a call the hooks come in the order of its turns, and across calls
// the schedules are staggered by far more than the detection delay varies,
// so the turn is the waiting one whose end of speech lies closest to
// end_of_speech before what the VAD heard.
type hookMatcher struct {
	mu        sync.Mutex
	expected  time.Duration       // end_of_speech: the nominal detection delay
	tolerance time.Duration       // how far a detection may be from it
	pending   map[int]*turnTiming // per call, the turn whose speech ended
	stray     int                 // hooks that matched no turn
}

// expect: call's turn t has had its end of speech sent.
func (m *hookMatcher) expect(call int, t *turnTiming) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pending[call] = t
}

// observe is voice.Options.ObserveReply: the reply to an utterance heard
// to end d ago goes to playout now.
func (m *hookMatcher) observe(d time.Duration) {
	now := time.Now()
	heard := now.Add(-d)
	m.mu.Lock()
	defer m.mu.Unlock()
	best, off := -1, m.tolerance
	for call, t := range m.pending {
		if o := (heard.Sub(t.spoke) - m.expected).Abs(); !heard.Before(t.spoke) && o < off {
			best, off = call, o
		}
	}
	if best < 0 {
		m.stray++
		return
	}
	m.pending[best].heard, m.pending[best].queued = heard, now
	delete(m.pending, best)
}

// reportTurns logs every turn and reports the quantiles; it fails the
// benchmark if under 90 % of the turns got a reply.
func reportTurns(b *testing.B, res benchResult) {
	turns := res.turns
	slices.SortFunc(turns, func(x, y *turnTiming) int { return x.spoke.Compare(y.spoke) })
	provider := res.run.providerTime
	var total, detect, own []float64
	replied := 0
	for _, t := range turns {
		if t.reply.IsZero() {
			b.Logf("call %d turn %2d: no reply", t.call, t.n)
			continue
		}
		replied++
		tot := t.reply.Sub(t.spoke)
		total = append(total, ms(tot))
		if t.heard.IsZero() {
			b.Logf("call %d turn %2d: total %v, the gateway's hook never matched", t.call, t.n, tot.Round(100*time.Microsecond))
			continue
		}
		det := t.heard.Sub(t.spoke)
		detect = append(detect, ms(det))
		own = append(own, ms(tot-det-provider))
		b.Logf("call %d turn %2d: total %v, detection %v, own %v (to playout %v, then to the wire %v)", t.call, t.n,
			tot.Round(100*time.Microsecond), det.Round(100*time.Microsecond), (tot - det - provider).Round(100*time.Microsecond),
			(t.queued.Sub(t.heard) - provider).Round(100*time.Microsecond), t.reply.Sub(t.queued).Round(100*time.Microsecond))
	}
	if want := res.run.calls * res.run.turns; replied*10 < want*9 {
		b.Fatalf("%d of %d turns got a reply", replied, want)
	}
	for _, s := range [][]float64{total, detect, own} {
		slices.Sort(s)
	}
	b.ReportMetric(float64(len(own)), "turns")
	b.ReportMetric(quantile(total, 0.5), "total-p50-ms")
	b.ReportMetric(quantile(total, 0.99), "total-p99-ms")
	b.ReportMetric(quantile(detect, 0.5), "detect-p50-ms")
	b.ReportMetric(quantile(detect, 0.99), "detect-p99-ms")
	if provider > 0 {
		b.ReportMetric(quantile(own, 0.5), "own-p50-ms")
		b.ReportMetric(quantile(own, 0.99), "own-p99-ms")
		return
	}
	// Local providers: what follows detection is recognition, the
	// responder, synthesis and the gateway together.
	b.ReportMetric(quantile(own, 0.5), "after-detect-p50-ms")
	b.ReportMetric(quantile(own, 0.99), "after-detect-p99-ms")
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// quantile of sorted values, nearest rank.
func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(i, 0)]
}
