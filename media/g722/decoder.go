package g722

// Decoder turns a 64 kbit/s G.722 stream back into 16 kHz PCM. Like the
// Encoder it carries state from one call to the next.
type Decoder struct {
	qmf  qmf
	low  band
	high band
}

// NewDecoder returns a decoder in the reset state the standard specifies.
func NewDecoder() *Decoder {
	return &Decoder{qmf: newQMF(), low: newBand(8), high: newBand(2)}
}

// Decode appends two samples per code byte of data to dst. Every byte is a
// valid code, so decoding cannot fail; corrupt input only sounds wrong.
func (d *Decoder) Decode(dst []int16, data []byte) []int16 {
	for _, c := range data {
		a, b := d.decodeByte(int(c))
		dst = append(dst, a, b)
	}
	return dst
}

func (d *Decoder) decodeByte(code int) (int16, int16) {
	ihigh, ilow := code>>6, code&63

	rlow := clamp(int(d.low.scale)*int(lowInvQuant6[ilow])>>10+int(d.low.predictor), -16384, 16383)
	d.low.updateLow(ilow >> 2)

	dhigh := int(d.high.scale) * int(highInvQuant[ihigh]) >> 10
	rhigh := clamp(dhigh+int(d.high.predictor), -16384, 16383)
	d.high.updateHigh(dhigh, ihigh)

	odd, even := d.qmf.push(int16(rlow+rhigh), int16(rlow-rhigh))
	return int16(clamp16(odd >> 11)), int16(clamp16(even >> 11))
}
