package media

import (
	"slices"
	"sync/atomic"
)

// Frame is one packet's decoded audio and the rate it was decoded at. The
// rate travels with the samples because a re-INVITE may change the codec,
// and so the rate, between one frame and the next, while frames decoded
// before the change still wait to be read.
type Frame struct {
	PCM  []int16
	Rate int // Hz
}

// audioOut feeds Audio() without allocating a frame per packet. Frames
// come from a small pool, and a frame's buffer is reused only once the
// Go memory model guarantees the reader is done with it. The reader's
// side of the contract (Audio's doc) is that a frame is valid until it
// receives the next one. Our side rests on the buffered-channel rule: the
// k-th receive from a channel of capacity C happens before the (k+C)-th
// send completes. So once send number S has completed, every receive up
// to S-C has happened, and a frame the reader received before any of
// those receives is free. Frames the receiver itself takes back out of
// the full channel (dropping the oldest) are free at once.
//
// With cap(ch)+2 buffers one is always free: at most the reader's frame
// and cap(ch) newer ones are held, besides the one being filled.
type audioOut struct {
	ch      chan Frame
	sent    uint64 // completed sends
	bufs    [][]int16
	free    []int
	flight  []inFlight // sent and not known to be released, in send order
	cur     int        // buffer handed out by get
	dropped *atomic.Uint64
}

type inFlight struct {
	buf int
	seq uint64 // which send it was, counting from 1
}

func newAudioOut(ch chan Frame, dropped *atomic.Uint64) audioOut {
	n := cap(ch) + 2
	a := audioOut{ch: ch, bufs: make([][]int16, n), free: make([]int, 0, n), flight: make([]inFlight, 0, n), dropped: dropped}
	for i := range n {
		a.bufs[i] = make([]int16, 0, 160) // 20 ms at 8 kHz; grown by the decoder as needed
		a.free = append(a.free, i)
	}
	return a
}

// get returns an empty frame to decode into; pass the result to send.
func (a *audioOut) get() []int16 {
	a.reclaim()
	if len(a.free) == 0 {
		// The arithmetic above says this cannot happen; should it, a new
		// buffer is still correct where reusing one would not be.
		a.bufs = append(a.bufs, make([]int16, 0, 160))
		a.free = append(a.free, len(a.bufs)-1)
	}
	a.cur = a.free[len(a.free)-1]
	a.free = a.free[:len(a.free)-1]
	return a.bufs[a.cur][:0]
}

// send queues the frame get handed out, decoded at rate Hz, dropping the
// oldest queued frame while the reader is behind.
func (a *audioOut) send(frame []int16, rate int) {
	a.bufs[a.cur] = frame[:0] // keep the storage the decoder grew
	for {
		select {
		case a.ch <- Frame{PCM: frame, Rate: rate}:
			a.sent++
			a.flight = append(a.flight, inFlight{buf: a.cur, seq: a.sent})
			return
		default:
		}
		select {
		case old := <-a.ch:
			a.dropped.Add(1)
			a.takeBack(old)
		default:
		}
	}
}

// takeBack frees a frame the receiver took back out of the channel.
func (a *audioOut) takeBack(old Frame) {
	for i, f := range a.flight {
		if sameArray(a.bufs[f.buf], old.PCM) {
			a.free = append(a.free, f.buf)
			a.flight = slices.Delete(a.flight, i, i+1)
			return
		}
	}
}

// reclaim frees every frame sent before the last one the reader is known
// to have received (see audioOut).
func (a *audioOut) reclaim() {
	c := uint64(cap(a.ch))
	if a.sent <= c {
		return
	}
	k := -1
	for i, f := range a.flight {
		if f.seq > a.sent-c {
			break
		}
		k = i
	}
	if k <= 0 {
		return
	}
	for _, f := range a.flight[:k] {
		a.free = append(a.free, f.buf)
	}
	a.flight = append(a.flight[:0], a.flight[k:]...)
}

func sameArray(a, b []int16) bool {
	return cap(a) > 0 && cap(b) > 0 && &a[:1][0] == &b[:1][0]
}
