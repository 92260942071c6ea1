package opus

import (
	"fmt"
	"testing"
)

// The benchmarks run per 20 ms frame of speech, which is what one call
// costs fifty times a second in each direction. frames/s-per-core is how
// many such frames one core can do: divided by 50, the calls it can carry
// in that direction alone.

func BenchmarkOpusEncode(b *testing.B) {
	pcm := frames(speech(b))
	for _, complexity := range []int{5, 10} {
		b.Run(fmt.Sprintf("complexity-%d", complexity), func(b *testing.B) {
			cfg := DefaultEncoderConfig()
			cfg.Complexity = complexity
			enc, err := NewEncoder(cfg)
			if err != nil {
				b.Fatal(err)
			}
			buf := make([]byte, 0, MaxPacket)
			var bytes int
			i := 0
			for b.Loop() {
				p, err := enc.Encode(buf[:0], pcm[i%len(pcm)])
				if err != nil {
					b.Fatal(err)
				}
				bytes += len(p)
				i++
			}
			report(b, i)
			b.ReportMetric(float64(bytes)/float64(i), "bytes/frame")
		})
	}
}

// BenchmarkOpusDecode decodes our own stream (wideband) and one as a
// browser sends it unless told maxplaybackrate (fullband, 32 kbit/s).
func BenchmarkOpusDecode(b *testing.B) {
	for _, bw := range []struct {
		name string
		max  Bandwidth
	}{{"wideband", Wideband}, {"fullband", Fullband}} {
		b.Run(bw.name, func(b *testing.B) {
			cfg := DefaultEncoderConfig()
			cfg.MaxBandwidth = bw.max
			pkts := encodeAll(b, cfg, speech(b))
			d := newDecoder(b)
			buf := make([]int16, 0, FrameSamples)
			i := 0
			for b.Loop() {
				if _, err := d.Decode(buf[:0], pkts[i%len(pkts)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
			report(b, i)
		})
	}
}

// BenchmarkOpusConceal is a packet decoded and then one lost 20 ms frame,
// by PLC (plc), or from the packet after it (fec, whose op decodes that
// packet's FEC and then the packet): less BenchmarkOpusDecode, what a loss
// costs. PLC alone, repeated, would measure libopus fading to silence.
func BenchmarkOpusConceal(b *testing.B) {
	pkts := encodeAll(b, DefaultEncoderConfig(), speech(b))
	for _, fec := range []bool{false, true} {
		name := "plc"
		if fec {
			name = "fec"
		}
		b.Run(name, func(b *testing.B) {
			d := newDecoder(b)
			buf := make([]int16, 0, FrameSamples)
			i := 0
			for b.Loop() {
				p := pkts[i%len(pkts)]
				var err error
				if fec {
					_, err = d.DecodeFEC(buf[:0], p, FrameSamples)
				} else {
					_, err = d.Conceal(buf[:0], FrameSamples)
				}
				if err != nil {
					b.Fatal(err)
				}
				if _, err := d.Decode(buf[:0], p); err != nil {
					b.Fatal(err)
				}
				i++
			}
			report(b, i)
		})
	}
}

func report(b *testing.B, frames int) {
	if frames == 0 || b.Elapsed() == 0 {
		return
	}
	b.ReportMetric(float64(frames)/b.Elapsed().Seconds(), "frames/s-per-core")
}
