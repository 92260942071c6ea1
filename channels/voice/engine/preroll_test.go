package engine

import (
	"slices"
	"testing"
)

// The pre-roll keeps the last preRoll frames, oldest first, as copies: the
// session reuses the frames it hands out.
func TestPreRollKeepsTheLastFrames(t *testing.T) {
	for _, pushed := range []int{0, 1, preRoll - 1, preRoll, preRoll + 7, 3*preRoll + 2} {
		var r preRollRing
		frame := make([]int16, 2)
		for i := range pushed {
			frame[0], frame[1] = int16(i), int16(-i)
			r.push(frame)
		}
		frame[0] = 9999 // the session reusing its buffer must not reach the ring
		var got []int16
		r.each(func(f []int16) { got = append(got, f[0]) })
		var want []int16
		for i := max(0, pushed-preRoll); i < pushed; i++ {
			want = append(want, int16(i))
		}
		if !slices.Equal(got, want) {
			t.Errorf("after %d frames: %v, want %v", pushed, got, want)
		}
	}
}
