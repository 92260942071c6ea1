package g722

// qmfCoeffs are the 24-tap quadrature mirror filter's coefficients (G.722
// Table 11); the filter is symmetric, so half of them serve both phases.
var qmfCoeffs = [12]int{3, -11, 12, 32, -210, 951, 3876, -805, 362, -156, 53, -11}

// qmfHistory is the filter's delay line. It is longer than the 24 taps so
// the window slides along it and is moved back only once in a while,
// instead of shifting 22 samples for every pair.
const qmfHistory = 512

type qmf struct {
	buf [qmfHistory]int16
	pos int // one past the newest sample
}

func newQMF() qmf { return qmf{pos: 22} }

// push appends two samples and returns the two polyphase sums over the
// newest 24: odd uses the odd positions with the reversed coefficients,
// even the even positions.
func (q *qmf) push(a, b int16) (odd, even int) {
	if q.pos+2 > len(q.buf) {
		copy(q.buf[:22], q.buf[q.pos-22:q.pos])
		q.pos = 22
	}
	q.buf[q.pos], q.buf[q.pos+1] = a, b
	q.pos += 2
	w := (*[24]int16)(q.buf[q.pos-24 : q.pos])
	for i, c := range qmfCoeffs {
		even += int(w[2*i]) * c
		odd += int(w[2*i+1]) * qmfCoeffs[11-i]
	}
	return odd, even
}
