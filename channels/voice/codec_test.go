package voice_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"switchboard/speech"
)

// recordingSTT hears nothing (every utterance is a cough to the dialog)
// but records the rate each stream was started at and the length of each
// frame written to it.
type recordingSTT struct {
	mu      sync.Mutex
	streams []*recordedStream
}

type recordedStream struct {
	rate   int
	frames []int // samples per frame written
}

func (r *recordingSTT) Name() string { return "recording" }

func (r *recordingSTT) Start(_ context.Context, rate int) (speech.STTStream, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := &recordedStream{rate: rate}
	r.streams = append(r.streams, s)
	return &recordingStream{r: r, s: s}, nil
}

type recordingStream struct {
	r *recordingSTT
	s *recordedStream
}

func (w *recordingStream) Write(pcm []int16) error {
	w.r.mu.Lock()
	defer w.r.mu.Unlock()
	w.s.frames = append(w.s.frames, len(pcm))
	return nil
}

func (w *recordingStream) Close() (speech.Transcript, error) {
	return speech.Transcript{Confidence: -1}, nil
}

// check reports a stream whose frames are not 20 ms at its rate.
func (r *recordingSTT) check() (streams int, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, s := range r.streams {
		if s.rate != 16000 {
			return len(r.streams), fmt.Errorf("stream %d started at %d Hz, want the call's 16 kHz", i, s.rate)
		}
		for j, n := range s.frames {
			if n != s.rate/50 {
				return len(r.streams), fmt.Errorf("stream %d at %d Hz got a %d-sample frame (#%d): %v ms of audio, not 20",
					i, s.rate, n, j, n*1000/s.rate)
			}
		}
	}
	return len(r.streams), nil
}

// A caller starts in G.722 (16 kHz) and re-INVITEs to PCMU (8 kHz)
// mid-call: the recogniser, started at 16 kHz, gets the second utterance
// resampled to 16 kHz, not 8 kHz frames it would hear at double speed.
func TestCodecChangeMidCallKeepsTheRecognisersRate(t *testing.T) {
	t.Parallel()
	stt := &recordingSTT{}
	r := newRigWith(t, "sip:support-desk@127.0.0.1:5999", "refer", nil, providers{stt: stt})
	s := startSipp(t, "../../testdata/sipp/voice_codec_change.xml", r.sipAddr.String(), freeUDPPort(t))
	s.wait(t, 60*time.Second)
	eventually(t, "the call's end", func() bool { return counter(t, r, "switchboard_voice_rtp_packets_total") > 0 })
	n, err := stt.check()
	if err != nil {
		t.Fatal(err)
	}
	if n < 2 {
		t.Fatalf("the recogniser heard %d utterances, want one before the codec change and one after", n)
	}
}
