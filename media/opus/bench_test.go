package opus

import (
	"fmt"
	"testing"
	"time"
)

// The benchmarks run per 20 ms frame of speech, which is what one call
// costs fifty times a second in each direction. cpu-ns/frame is the
// process's CPU time per frame, which a shared machine inflates less than
// ns/op; calls/core is how many calls' worth of frames (50 a second) one
// core does in that direction alone. pcm-16k is the registered codec
// (DefaultRate); pcm-48k the same stream with 48 kHz PCM on our side.

func BenchmarkOpusEncode(b *testing.B) {
	for _, c := range []struct {
		rate, complexity int
	}{{16000, 1}, {16000, 5}, {16000, 10}, {48000, 1}} {
		b.Run(fmt.Sprintf("pcm-%dk/complexity-%d", c.rate/1000, c.complexity), func(b *testing.B) {
			pcm := frames(speech(b, c.rate), c.rate)
			cfg := DefaultEncoderConfig()
			cfg.Complexity = c.complexity
			enc, err := NewEncoder(c.rate, cfg)
			if err != nil {
				b.Fatal(err)
			}
			buf := make([]byte, 0, MaxPacket)
			var bytes int
			i, cpu0 := 0, cpuTime(b)
			for b.Loop() {
				p, err := enc.Encode(buf[:0], pcm[i%len(pcm)])
				if err != nil {
					b.Fatal(err)
				}
				bytes += len(p)
				i++
			}
			report(b, i, cpu0)
			b.ReportMetric(float64(bytes)/float64(i), "bytes/frame")
		})
	}
}

// BenchmarkOpusDecode decodes our own stream (wideband) and one as a
// browser sends it unless told maxplaybackrate (fullband, 32 kbit/s).
func BenchmarkOpusDecode(b *testing.B) {
	for _, c := range []struct {
		rate int
		bw   Bandwidth
		name string
	}{{16000, Wideband, "wideband"}, {16000, Fullband, "fullband"}, {48000, Wideband, "wideband"}, {48000, Fullband, "fullband"}} {
		b.Run(fmt.Sprintf("pcm-%dk/%s", c.rate/1000, c.name), func(b *testing.B) {
			cfg := DefaultEncoderConfig()
			cfg.MaxBandwidth = c.bw
			pkts := encodeAll(b, 48000, cfg, speech(b, 48000))
			d := newDecoder(b, c.rate)
			buf := make([]int16, 0, c.rate/50)
			i, cpu0 := 0, cpuTime(b)
			for b.Loop() {
				if _, err := d.Decode(buf[:0], pkts[i%len(pkts)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
			report(b, i, cpu0)
		})
	}
}

// BenchmarkOpusConceal is a packet decoded and then one lost 20 ms frame,
// by PLC (plc), or from the packet after it (fec, whose op decodes that
// packet's FEC and then the packet): less BenchmarkOpusDecode, what a loss
// costs. PLC alone, repeated, would measure libopus fading to silence.
func BenchmarkOpusConceal(b *testing.B) {
	pkts := encodeAll(b, rate, DefaultEncoderConfig(), speech(b, rate))
	for _, fec := range []bool{false, true} {
		name := "plc"
		if fec {
			name = "fec"
		}
		b.Run(name, func(b *testing.B) {
			d := newDecoder(b, rate)
			buf := make([]int16, 0, frame)
			i, cpu0 := 0, cpuTime(b)
			for b.Loop() {
				p := pkts[i%len(pkts)]
				var err error
				if fec {
					_, err = d.DecodeFEC(buf[:0], p, frame)
				} else {
					_, err = d.Conceal(buf[:0], frame)
				}
				if err != nil {
					b.Fatal(err)
				}
				if _, err := d.Decode(buf[:0], p); err != nil {
					b.Fatal(err)
				}
				i++
			}
			report(b, i, cpu0)
		})
	}
}

func report(b *testing.B, frames int, cpu0 time.Duration) {
	cpu := cpuTime(b) - cpu0
	if frames == 0 || cpu <= 0 {
		return
	}
	perFrame := float64(cpu) / float64(frames)
	b.ReportMetric(perFrame, "cpu-ns/frame")
	b.ReportMetric(float64(time.Second)/perFrame/50, "calls/core")
}
