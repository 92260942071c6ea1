package media

import (
	"sync/atomic"
	"testing"
	"time"
)

// TestAudioFramesStayIntactUntilTheNextReceive runs a receiver that
// outpaces a reader which sometimes stalls: every frame the reader holds
// must keep its content until the reader takes the next one (the race
// detector checks the ordering), and the oldest frames are the ones
// dropped.
func TestAudioFramesStayIntactUntilTheNextReceive(t *testing.T) {
	ch := make(chan Frame, audioQueue)
	var dropped atomic.Uint64
	out := newAudioOut(ch, &dropped)
	const frames = 2000
	go func() {
		for i := range frames {
			f := out.get()
			for range 160 {
				f = append(f, int16(i))
			}
			out.send(f, 8000)
			if i%7 == 0 {
				time.Sleep(10 * time.Microsecond)
			}
		}
		close(ch)
	}()
	last, got := -1, 0
	for fr := range ch {
		f := fr.PCM
		id := int(f[0])
		if id <= last {
			t.Fatalf("frame %d after %d", id, last)
		}
		if id%50 == 0 {
			time.Sleep(time.Millisecond) // stall while holding f
		}
		for _, v := range f {
			if int(v) != id {
				t.Fatalf("frame %d changed under the reader: sample %d", id, v)
			}
		}
		last = id
		got++
	}
	if got+int(dropped.Load()) != frames {
		t.Fatalf("received %d + dropped %d, want %d", got, dropped.Load(), frames)
	}
	if last != frames-1 {
		t.Fatalf("last frame %d, want the newest, %d", last, frames-1)
	}
	if len(out.bufs) != audioQueue+2 {
		t.Fatalf("pool grew to %d buffers", len(out.bufs))
	}
}
