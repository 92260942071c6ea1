package media

import (
	"runtime"
	"testing"
	"time"
)

func benchPorts(b *testing.B, pairs int) *Ports {
	b.Helper()
	p, err := NewPorts(loopback, 20000, 20000+4*pairs)
	if err != nil {
		b.Fatal(err)
	}
	return p
}

func benchPair(b *testing.B, p *Ports, pace time.Duration) (*Session, *Session) {
	b.Helper()
	x, err := p.Open(nil)
	if err != nil {
		b.Fatal(err)
	}
	y, err := p.Open(nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { x.Close(); y.Close() })
	x.pace, y.pace = pace, pace
	codec, _ := NewCodec("PCMU", 0)
	for _, s := range []struct{ s, peer *Session }{{x, y}, {y, x}} {
		cfg := SessionConfig{Codec: codec, Remote: addrOf(s.peer)}
		if err := s.s.Start(b.Context(), cfg); err != nil {
			b.Fatal(err)
		}
	}
	return x, y
}

// BenchmarkSessionRoundTrip runs two sessions on loopback with the pacer
// sped up (a packet every 50µs instead of 20 ms) and counts one op per
// frame delivered in each direction: WriteFrame, encode, RTP out, UDP,
// RTP in, jitter buffer, decode, Audio(). allocs/op covers every
// goroutine of both sessions.
func BenchmarkSessionRoundTrip(b *testing.B) {
	x, y := benchPair(b, benchPorts(b, 4), 50*time.Microsecond)
	frame := make([]int16, 160)
	for i := range frame {
		frame[i] = int16(i * 100)
	}
	// Let both latch and warm up their buffers.
	for range 50 {
		<-x.Audio()
		<-y.Audio()
	}
	b.ReportAllocs()
	rx0 := x.Stats().PacketsReceived + y.Stats().PacketsReceived
	cpu0 := cpuTime(b)
	b.ResetTimer()
	for range b.N {
		x.WriteFrame(frame, 8000)
		y.WriteFrame(frame, 8000)
		<-x.Audio()
		<-y.Audio()
	}
	b.StopTimer()
	// The wall time per op follows the pacer; CPU time per packet (sent
	// and received, both sessions) is what limits calls per core.
	packets := x.Stats().PacketsReceived + y.Stats().PacketsReceived - rx0
	b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(packets), "cpu-ns/packet")
}

// BenchmarkIdleSessionMemory opens 1,000 sessions (500 pairs on loopback,
// sending silence to each other every 20 ms) and reports the heap and
// goroutine stacks they hold, per session. Run it with -benchtime=1x.
func BenchmarkIdleSessionMemory(b *testing.B) {
	const n = 1000
	for range b.N {
		p := benchPorts(b, n)
		heap0, stack0 := memInUse()
		var all []*Session
		for range n / 2 {
			x, y := benchPair(b, p, 0)
			all = append(all, x, y)
		}
		time.Sleep(time.Second) // buffers sized, stacks grown, RTCP not yet due
		for _, s := range all {
			if s.Stats().PacketsReceived == 0 {
				b.Fatal("a session received nothing")
			}
		}
		heap1, stack1 := memInUse()
		b.ReportMetric(float64(heap1-heap0)/n, "heap-B/session")
		b.ReportMetric(float64(stack1-stack0)/n, "stack-B/session")
		b.ReportMetric(float64(heap1-heap0+stack1-stack0)/n, "B/session")
		for _, s := range all {
			s.Close()
		}
	}
}

func memInUse() (heap, stack uint64) {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc, m.StackInuse
}
