package g722

// band is the ADPCM state of one sub-band: the adaptive quantizer scale and
// the pole-zero predictor of G.722 §3.6 to §3.8 (blocks INVQAL/INVQBL,
// LOGSCL/SCALEL, UPPOL1/UPPOL2/UPZERO, FILTEP/FILTEZ). Field widths mirror
// the reference's 16- and 32-bit words on purpose: the codec is only
// interoperable if every rounding and truncation matches bit for bit.
type band struct {
	predictor int16    // s: predictor output (SL, SH)
	zero      int32    // sz: output of the six-tap zero section (SZL, SZH)
	signs     [2]bool  // p(n-1), p(n-2) < 0: signs of partial reconstructions
	prevRecon int16    // r(n-1), doubled (RLT1, RHT1)
	pole      [2]int16 // a1, a2: pole coefficients (AL1/AL2, AH1/AH2)
	diffs     [6]int32 // d(n-1..n-6), doubled (DLTn, DHTn)
	zeros     [6]int16 // b1..b6: zero coefficients (BLn, BHn)
	logScale  int16    // nabla: log-domain quantizer scale (NBL, NBH)
	scale     int16    // delta: linear quantizer scale (DETL, DETH)
}

// invLog2 is ILB: 2^(i/32) in Q11, used to turn the log scale into the
// linear one.
var invLog2 = [32]int16{
	2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383,
	2435, 2489, 2543, 2599, 2656, 2714, 2774, 2834,
	2896, 2960, 3025, 3091, 3158, 3228, 3298, 3371,
	3444, 3520, 3597, 3676, 3756, 3838, 3922, 4008,
}

var (
	// lowLogStep is WL indexed through RIL4 by the 4-bit low-band code.
	lowLogStep = [16]int16{
		-60, 3042, 1198, 538, 334, 172, 58, -30,
		3042, 1198, 538, 334, 172, 58, -30, -60,
	}
	// lowInvQuant4 is QQ4 signed by the 4-bit code: the predictor adapts
	// on the 4-bit core so that 48 and 56 kbit/s decoders track it too.
	lowInvQuant4 = [16]int16{
		0, -2557, -1612, -1121, -786, -530, -323, -150,
		2557, 1612, 1121, 786, 530, 323, 150, 0,
	}
	// lowInvQuant6 is QQ6 signed and indexed by the 6-bit low-band code.
	lowInvQuant6 = [64]int16{
		-17, -17, -17, -17, -3101, -2738, -2376, -2088,
		-1873, -1689, -1535, -1399, -1279, -1170, -1072, -982,
		-899, -822, -750, -682, -618, -558, -501, -447,
		-396, -347, -300, -254, -211, -170, -130, -91,
		3101, 2738, 2376, 2088, 1873, 1689, 1535, 1399,
		1279, 1170, 1072, 982, 899, 822, 750, 682,
		618, 558, 501, 447, 396, 347, 300, 254,
		211, 170, 130, 91, 54, 17, -54, -17,
	}
	// highLogStep is WH indexed by the low bit of the 2-bit high-band code.
	highLogStep = [2]int16{798, -214}
	// highInvQuant is QQ2 signed and indexed by the 2-bit high-band code.
	highInvQuant = [4]int16{-926, -202, 926, 202}
)

func newBand(scale int16) band { return band{scale: scale} }

// adapt runs the predictor update for a dequantized difference d.
func (b *band) adapt(d int) {
	neg := int(b.zero)+d < 0
	sg0, sg1 := -1, -1
	if neg != b.signs[0] {
		sg0 = 1
	}
	if neg == b.signs[1] {
		sg1 = 1
	}
	b.signs[1], b.signs[0] = b.signs[0], neg

	a1, a2 := int(b.pole[0]), int(b.pole[1])
	a2 = clamp((sg0*clamp(a1, -8191, 8191)>>5)+(sg1<<7)+(a2*127>>7), -12288, 12288)
	limit := 15360 - a2
	a1 = clamp(-192*sg0+(a1*255>>8), -limit, limit)
	b.pole[0], b.pole[1] = int16(a1), int16(a2)

	for i := range b.zeros {
		z := int(b.zeros[i]) * 255 >> 8
		switch {
		case d == 0:
		case (int(b.diffs[i]) ^ d) < 0:
			z -= 128
		default:
			z += 128
		}
		b.zeros[i] = int16(z)
	}
	copy(b.diffs[1:], b.diffs[:5])
	b.diffs[0] = int32(clamp16(d << 1))

	var sz int32
	for i := 5; i >= 0; i-- {
		sz += int32(int(b.zeros[i]) * int(b.diffs[i]) >> 15)
	}
	b.zero = sz

	recon := clamp16((int(b.predictor) + d) << 1)
	b.predictor = int16(clamp16(int(sz) + (a1 * recon >> 15) + (a2 * int(b.prevRecon) >> 15)))
	b.prevRecon = int16(recon)
}

// updateLow adapts the lower band to its 4-bit core code.
func (b *band) updateLow(code4 int) {
	b.adapt(int(b.scale) * int(lowInvQuant4[code4]) >> 10)
	b.logScale = int16(clamp((int(b.logScale)*127>>7)+int(lowLogStep[code4]), 0, 18432))
	b.scale = linearScale(int(b.logScale) - 8<<11)
}

// updateHigh adapts the upper band to its dequantized difference d and
// 2-bit code.
func (b *band) updateHigh(d, code int) {
	b.adapt(d)
	b.logScale = int16(clamp((int(b.logScale)*127>>7)+int(highLogStep[code&1]), 0, 22528))
	b.scale = linearScale(int(b.logScale) - 10<<11)
}

func linearScale(logScale int) int16 {
	w := int(invLog2[(logScale>>6)&31])
	if shift := logScale >> 11; shift < 0 {
		return int16(w >> -shift)
	} else {
		return int16(w << shift)
	}
}

func clamp(v, lo, hi int) int { return min(max(v, lo), hi) }

func clamp16(v int) int { return clamp(v, -32768, 32767) }
