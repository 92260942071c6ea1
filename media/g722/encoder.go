package g722

// lowQuant holds the decision levels of the 6-bit lower-band quantizer
// (G.722 Table 14, Q6), scaled so they compare against (|diff|+1)<<10.
var lowQuant = [29]int{
	35, 72, 110, 150, 190, 233, 276, 323,
	370, 422, 473, 530, 587, 650, 714, 786,
	858, 940, 1023, 1121, 1219, 1339, 1458, 1612,
	1765, 1980, 2195, 2557, 2919,
}

// Encoder turns 16 kHz PCM into a 64 kbit/s G.722 stream. It keeps the QMF
// history and both sub-band predictors between calls, so one Encoder must
// see a single stream's frames in order.
type Encoder struct {
	qmf  qmf
	low  band
	high band
}

// NewEncoder returns an encoder in the reset state the standard specifies.
func NewEncoder() *Encoder {
	return &Encoder{qmf: newQMF(), low: newBand(8), high: newBand(2)}
}

// Encode appends one code byte per two samples of pcm to dst. An odd final
// sample is paired with itself, as FFmpeg does, because a packet cannot
// carry half a code byte.
func (e *Encoder) Encode(dst []byte, pcm []int16) []byte {
	n := len(pcm) &^ 1
	for i := 0; i < n; i += 2 {
		dst = append(dst, e.encodePair(pcm[i], pcm[i+1]))
	}
	if n < len(pcm) {
		dst = append(dst, e.encodePair(pcm[n], pcm[n]))
	}
	return dst
}

func (e *Encoder) encodePair(a, b int16) byte {
	odd, even := e.qmf.push(a, b)
	xlow := (odd + even) >> 14
	xhigh := (odd - even) >> 14

	ihigh := e.high.quantizeHigh(xhigh)
	ilow := e.low.quantizeLow(xlow)
	e.high.updateHigh(int(e.high.scale)*int(highInvQuant[ihigh])>>10, ihigh)
	e.low.updateLow(ilow >> 2)
	return byte(ihigh<<6 | ilow)
}

// quantizeHigh is the 2-bit upper-band quantizer (G.722 §3.3, QUANTH).
func (b *band) quantizeHigh(x int) int {
	diff := clamp16(x - int(b.predictor))
	mag := diff
	if diff < 0 {
		mag = -(diff + 1)
	}
	code := 0
	if mag < 141*int(b.scale)>>8 {
		code = 1
	}
	if diff >= 0 {
		code += 2
	}
	return code
}

// quantizeLow is the 6-bit lower-band quantizer (G.722 §3.3, QUANTL): it
// finds the interval of |diff| among the scaled decision levels and maps
// it and the sign to the code of Table 14.
func (b *band) quantizeLow(x int) int {
	diff := clamp16(x - int(b.predictor))
	mag := diff // |diff| rounded down by one for negatives, as QUANTL does
	if diff < 0 {
		mag = -(diff + 1)
	}
	limit := (mag + 1) << 10
	scale := int(b.scale)
	i := 0
	if limit > lowQuant[8]*scale {
		i = 9 // skip the first levels: most differences are not tiny
	}
	for i < len(lowQuant) && limit > lowQuant[i]*scale {
		i++
	}
	switch {
	case diff >= 0:
		return 61 - i
	case i < 2:
		return 63 - i
	default:
		return 33 - i
	}
}
