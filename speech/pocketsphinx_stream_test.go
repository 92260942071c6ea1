package speech

import (
	"context"
	"encoding/binary"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// Fed frame by frame, the stream's upsampler gives the very samples
// upsample2x gives for the whole utterance, whatever the frame sizes.
func TestUpsamplerAcrossFramesMatchesWholeUtterance(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pcm := make([]int16, 1000)
	for i := range pcm {
		pcm[i] = int16(rng.IntN(65536) - 32768)
	}
	want := appendS16LE(nil, upsample2x(pcm))
	for _, frame := range []int{1, 7, 160, 1000} {
		u := upsampler{on: true}
		var got []byte
		for i := 0; i < len(pcm); i += frame {
			got = u.appendS16LE(got, pcm[i:min(i+frame, len(pcm))])
		}
		got = u.flush(got)
		if !slices.Equal(got, want) {
			t.Errorf("frames of %d: the stream's audio differs from upsample2x's", frame)
		}
	}
	if got := (&upsampler{}).appendS16LE(nil, []int16{1, -2}); binary.LittleEndian.Uint16(got[2:]) != uint16(0xfffe) || len(got) != 4 {
		t.Errorf("16 kHz audio is not passed as it is: % x", got)
	}
}

// Recognition starts with the caller's first words, not at the end of
// speech: the process runs (and has its model loaded meanwhile) while the
// utterance is still being written.
func TestPocketsphinxRecognisesWhileTheCallerSpeaks(t *testing.T) {
	p := newTestSphinx(t, PocketsphinxConfig{})
	started := make(chan int, 1)
	p.started = func(pid int) { started <- pid }
	a := fixture(t, "where_order.wav")
	s, err := p.Start(context.Background(), a.Rate)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write(a.PCM[:320]); err != nil {
		t.Fatal(err)
	}
	select {
	case <-started:
	default:
		t.Fatal("no recogniser was running after the first frame")
	}
	if err := s.Write(a.PCM[320:]); err != nil {
		t.Fatal(err)
	}
	tr, err := s.Close()
	if err != nil || !strings.Contains(tr.Text, "where is my order") {
		t.Fatalf("heard %q, %v", tr.Text, err)
	}
}

// BenchmarkPocketsphinxEndOfSpeech feeds an utterance in real time, 20 ms
// frames 20 ms apart as a call does, and reports the time from the end of
// speech (Close) to the transcript, with a streaming slot free (stream)
// and without one (batch: the process starts at the end of speech).
func BenchmarkPocketsphinxEndOfSpeech(b *testing.B) {
	a := fixture(b, "where_order.wav")
	for _, mode := range []string{"stream", "batch"} {
		b.Run(mode, func(b *testing.B) {
			p := newTestSphinx(b, PocketsphinxConfig{MaxParallel: 1})
			if mode == "batch" {
				if err := p.streams.Acquire(context.Background(), 1); err != nil { // taken: every utterance goes batch
					b.Fatal(err)
				}
			}
			var total time.Duration
			for b.Loop() {
				s, err := p.Start(context.Background(), a.Rate)
				if err != nil {
					b.Fatal(err)
				}
				tick := time.NewTicker(20 * time.Millisecond)
				for i := 0; i < len(a.PCM); i += 320 {
					<-tick.C
					_ = s.Write(a.PCM[i:min(i+320, len(a.PCM))])
				}
				tick.Stop()
				end := time.Now()
				if _, err := s.Close(); err != nil {
					b.Fatal(err)
				}
				total += time.Since(end)
			}
			b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms-after-speech")
		})
	}
}

// A recogniser that cannot be started is tried once per utterance, not
// once per frame: the stream falls back to recognising at the end, which
// says what is wrong.
func TestPocketsphinxStartFailureFallsBackOnce(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "pocketsphinx_continuous")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	p := newTestSphinx(t, PocketsphinxConfig{Binary: bin})
	if err := os.Remove(bin); err != nil { // gone after the start-up check
		t.Fatal(err)
	}
	s, err := p.Start(context.Background(), 16000)
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		if err := s.Write(make([]int16, 320)); err != nil {
			t.Fatalf("Write: %v, want the audio kept for the end", err)
		}
	}
	if _, err := s.Close(); err == nil || !strings.Contains(err.Error(), "pocketsphinx") {
		t.Fatalf("Close: %v, want the recogniser's failure", err)
	}
	if !p.streams.TryAcquire(int64(runtime.NumCPU())) {
		t.Fatal("the streaming slot was not given back")
	}
}
