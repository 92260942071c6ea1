package media

import "math"

// Resampler converts a stream of PCM frames from one sample rate to another,
// keeping its filter history between calls so that 20 ms frames join up
// without clicks. Halving and doubling (16 kHz to 8 kHz and back, the
// conversions a call between G.722 and G.711 needs) use a half-band FIR:
// flat to 3.4 kHz at 8 kHz, -6 dB at 4 kHz and more than 70 dB down from
// 4.6 kHz, so what folds back lands above the telephone band. Other
// ratios (a TTS voice at 22.05 or 24 kHz, say) fall back to linear
// interpolation behind a windowed-sinc low-pass when going down: good
// enough for prompts, not for music. A Resampler is not safe for
// concurrent use; each stream owns one.
type Resampler struct {
	from, to int
	conv     converter
}

// converter is one conversion algorithm. align, called before the first
// process by whole-buffer conversion, removes what it can of the output's
// lag behind the input and returns the rest, in output samples, for the
// caller to drop.
type converter interface {
	process(dst, src []int16) []int16
	align() int
}

// NewResampler returns a Resampler from one rate to another, in Hz. A
// non-positive rate is a programming error; it is treated as "no
// conversion" rather than a panic in the middle of a call.
func NewResampler(from, to int) *Resampler {
	r := &Resampler{from: from, to: to}
	switch {
	case from <= 0 || to <= 0 || from == to:
		r.conv = identity{}
	case from == 2*to:
		r.conv = &halfDown{hist: make([]int16, downSpan), next: 1}
	case to == 2*from:
		r.conv = &halfUp{hist: make([]int16, upSpan)}
	default:
		r.conv = newFallback(from, to)
	}
	return r
}

// Process appends src, converted, to dst. Output lags input by the
// filter's delay (about 2 ms for the half-band conversions); the number of
// samples out per call follows the ratio, carrying any remainder to the
// next call.
func (r *Resampler) Process(dst, src []int16) []int16 { return r.conv.process(dst, src) }

// Resample converts a whole buffer from one rate to another, in Hz, and
// appends the result to dst: ceil(len(src)*to/from) samples, aligned with
// the input (the filter delay is removed and the tail flushed). For a
// stream of frames use a Resampler, which keeps the filter's history.
func Resample(dst, src []int16, from, to int) []int16 {
	r := NewResampler(from, to)
	if _, ok := r.conv.(identity); ok {
		return append(dst, src...)
	}
	want := (len(src)*to + from - 1) / from
	drop := r.conv.align()
	out := r.conv.process(nil, src)
	// Flush with silence until the last input sample has come out; each
	// round yields at least one sample, even at 48 kHz to 8 kHz.
	zeros := make([]int16, max(64, 2*from/to))
	for len(out) < drop+want {
		out = r.conv.process(out, zeros)
	}
	return append(dst, out[drop:drop+want]...)
}

type identity struct{}

func (identity) process(dst, src []int16) []int16 { return append(dst, src...) }
func (identity) align() int                       { return 0 }

// halfBand holds the non-zero taps of a 63-tap Kaiser-windowed half-band
// low-pass at a quarter of the higher rate, from the centre out: taps at
// even distances from the centre are zero by construction (that is what
// makes it half-band), so the centre, 0.5, and these 16 are all there is.
var halfBand = designHalfBand(halfBandTaps, 7.0)

const (
	halfBandTaps = 16
	downSpan     = 4*halfBandTaps - 2 // input history a decimated sample needs
	upSpan       = 2*halfBandTaps - 1 // input history an interpolated pair needs
)

func designHalfBand(n int, beta float64) []float64 {
	half := float64(2*n - 1) // distance from the centre to the last tap
	taps := make([]float64, n)
	sum := 0.5
	for m := range taps {
		d := float64(2*m + 1)
		x := math.Pi * d / 2
		taps[m] = 0.5 * math.Sin(x) / x * kaiser(d/half, beta)
		sum += 2 * taps[m]
	}
	for m := range taps { // unity gain at DC
		taps[m] /= sum
	}
	return taps
}

// kaiser is the Kaiser window at x in [-1, 1].
func kaiser(x, beta float64) float64 {
	return besselI0(beta*math.Sqrt(max(0, 1-x*x))) / besselI0(beta)
}

func besselI0(x float64) float64 {
	sum, term := 1.0, 1.0
	for k := 1; k < 50 && term > 1e-12*sum; k++ {
		term *= (x / (2 * float64(k))) * (x / (2 * float64(k)))
		sum += term
	}
	return sum
}

// halfDown low-passes and keeps every second sample.
type halfDown struct {
	hist []int16 // the last downSpan input samples, then room for a frame
	next int     // index in the next src of the sample that completes a pair
}

func (h *halfDown) process(dst, src []int16) []int16 {
	buf := append(h.hist[:downSpan], src...)
	i := downSpan + h.next
	for ; i < len(buf); i += 2 {
		dst = append(dst, halfBandAt(buf[i-downSpan:i+1]))
	}
	h.next = i - len(buf)
	h.hist = append(buf[:0], buf[len(buf)-downSpan:]...)
	return dst
}

// align: output j is made at input 2j+1 and centred on input 2j+1-31,
// which is where output j-15 belongs.
func (h *halfDown) align() int { return (downSpan/2 - 1) / 2 }

// halfBandAt filters the window w (downSpan+1 samples) at its centre.
func halfBandAt(w []int16) int16 {
	c := downSpan / 2
	acc := 0.5 * float64(w[c])
	for m, t := range halfBand {
		acc += t * float64(int(w[c-2*m-1])+int(w[c+2*m+1]))
	}
	return toInt16(acc)
}

// halfUp doubles the rate: each input sample yields the point half a
// sample before the window's centre, interpolated by the odd taps, and
// the centre sample itself.
type halfUp struct {
	hist []int16 // the last upSpan input samples, then room for a frame
}

func (h *halfUp) process(dst, src []int16) []int16 {
	const n = halfBandTaps
	buf := append(h.hist[:upSpan], src...)
	for i := upSpan; i < len(buf); i++ {
		w := buf[i-upSpan : i+1] // w[n] is the centre sample, w[n-1] the one before
		acc := 0.0
		for m, t := range halfBand {
			acc += 2 * t * float64(int(w[n-1-m])+int(w[n+m]))
		}
		dst = append(dst, toInt16(acc), w[n])
	}
	h.hist = append(buf[:0], buf[len(buf)-upSpan:]...)
	return dst
}

// align: the pair made at input i ends with input i-15, at output 2i+1
// instead of 2(i-15).
func (h *halfUp) align() int { return upSpan }

func toInt16(v float64) int16 {
	return int16(math.Round(min(max(v, math.MinInt16), math.MaxInt16)))
}

// fallback handles ratios other than 2:1: a windowed-sinc low-pass at the
// target's Nyquist rate when going down, then linear interpolation.
type fallback struct {
	from, to int
	lp       []float64 // low-pass taps, nil when going up
	hist     []int16   // the last len(lp)-1 input samples, then room for a frame
	filtered []int16   // scratch: the low-passed frame
	prev     int16     // the last sample the interpolator saw
	pos      int       // next output's position after prev, in 1/to input samples
}

func newFallback(from, to int) *fallback {
	f := &fallback{from: from, to: to, pos: to} // first output at the first input
	if from > to {
		ratio := min((from+to-1)/to, 32) // bounds the filter for absurd ratios
		f.lp = designLowPass(16*ratio+1, 0.5*float64(to)/float64(from), 6.0)
		f.hist = make([]int16, len(f.lp)-1)
	}
	return f
}

// designLowPass returns n (odd) Kaiser-windowed sinc taps with cutoff fc in
// cycles per sample.
func designLowPass(n int, fc, beta float64) []float64 {
	taps := make([]float64, n)
	c := n / 2
	sum := 0.0
	for i := range taps {
		d := float64(i - c)
		v := 2 * fc
		if d != 0 {
			v = math.Sin(2*math.Pi*fc*d) / (math.Pi * d)
		}
		taps[i] = v * kaiser(d/float64(c), beta)
		sum += taps[i]
	}
	for i := range taps {
		taps[i] /= sum
	}
	return taps
}

func (f *fallback) process(dst, src []int16) []int16 {
	if f.lp != nil {
		src = f.lowPass(src)
	}
	n := len(src)
	at := func(i int) int { // i indexes prev, src...
		if i == 0 {
			return int(f.prev)
		}
		return int(src[i-1])
	}
	for ; f.pos/f.to < n; f.pos += f.from {
		i, frac := f.pos/f.to, f.pos%f.to
		a, b := at(i), at(i+1)
		dst = append(dst, toInt16(float64(a)+float64((b-a)*frac)/float64(f.to)))
	}
	if n > 0 {
		f.prev = src[n-1]
		f.pos -= n * f.to
	}
	return dst
}

func (f *fallback) lowPass(src []int16) []int16 {
	span := len(f.lp) - 1
	buf := append(f.hist[:span], src...)
	out := f.filtered[:0]
	for i := span; i < len(buf); i++ {
		acc := 0.0
		for k, t := range f.lp {
			acc += t * float64(buf[i-k])
		}
		out = append(out, toInt16(acc))
	}
	f.filtered = out
	f.hist = append(buf[:0], buf[len(buf)-span:]...)
	return out
}

// align starts interpolating half the low-pass's length in, where the
// first input sample comes out of it: the delay is a fraction of an output
// sample, so dropping whole outputs would not do.
func (f *fallback) align() int {
	f.pos += len(f.lp) / 2 * f.to
	return 0
}
