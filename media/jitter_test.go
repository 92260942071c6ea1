package media

import (
	"encoding/binary"
	"slices"
	"testing"
)

const lostFrame = -1

// runJitter pushes packets (payload: the sequence number) the way the
// receiver does and returns what came out, lostFrame for a concealment,
// ending with a drain as when the stream stops.
func runJitter(seqs []uint16) ([]int, *jitterBuffer) {
	var j jitterBuffer
	var out []int
	emit := func(s *jitterSlot) {
		if s == nil {
			out = append(out, lostFrame)
			return
		}
		out = append(out, int(s.seq))
	}
	drain := func() {
		for j.pending() > 0 {
			s, _ := j.pop(true)
			emit(s)
		}
	}
	for _, seq := range seqs {
		payload := binary.BigEndian.AppendUint16(nil, seq)
		res := j.push(seq, uint32(seq)*160, 0, payload)
		if res == pushRestart {
			drain()
			j.restart(seq)
			res = j.push(seq, uint32(seq)*160, 0, payload)
		}
		for {
			s, ok := j.pop(false)
			if !ok {
				break
			}
			emit(s)
		}
	}
	drain()
	return out, &j
}

func TestJitterBufferOrdersAndConceals(t *testing.T) {
	tests := []struct {
		name                                string
		in                                  []uint16
		want                                []int
		duplicates, late, concealed, strays uint64
	}{
		{"in order passes straight through", []uint16{0, 1, 2, 3, 4}, []int{0, 1, 2, 3, 4}, 0, 0, 0, 0},
		{"swapped pair is reordered", []uint16{0, 2, 1, 3}, []int{0, 1, 2, 3}, 0, 0, 0, 0},
		{"duplicate while held", []uint16{0, 2, 2, 1}, []int{0, 1, 2}, 1, 0, 0, 0},
		{"duplicate of a delivered packet", []uint16{0, 1, 1, 2}, []int{0, 1, 2}, 1, 0, 0, 0},
		{"loss is concealed once three newer arrived", []uint16{0, 2, 3, 4, 5}, []int{0, lostFrame, 2, 3, 4, 5}, 0, 0, 1, 0},
		{"packet after its concealment is late", []uint16{0, 2, 3, 4, 1, 5}, []int{0, lostFrame, 2, 3, 4, 5}, 0, 1, 1, 0},
		{"two losses in a row", []uint16{0, 3, 4, 5, 6}, []int{0, lostFrame, lostFrame, 3, 4, 5, 6}, 0, 0, 2, 0},
		{"stream stops behind a gap: drained", []uint16{0, 2}, []int{0, lostFrame, 2}, 0, 0, 1, 0},
		{"sequence wraps", []uint16{65534, 65535, 0, 1}, []int{65534, 65535, 0, 1}, 0, 0, 0, 0},
		{"reordered across the wrap", []uint16{65534, 0, 65535, 1}, []int{65534, 65535, 0, 1}, 0, 0, 0, 0},
		{"gap wider than the buffer restarts", []uint16{0, 1, 40, 41}, []int{0, 1, 40, 41}, 0, 0, 0, 0},
		{"lone far packet is a stray", []uint16{0, 1, 20000, 2}, []int{0, 1, 2}, 0, 0, 0, 1},
		{"far jump confirmed by the next packet", []uint16{0, 1, 20000, 20001, 20002}, []int{0, 1, 20001, 20002}, 0, 0, 0, 1},
		{"old packet far behind is a stray", []uint16{1000, 1001, 500, 1002}, []int{1000, 1001, 1002}, 0, 0, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, j := runJitter(tt.in)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("out %v, want %v", got, tt.want)
			}
			if j.duplicates != tt.duplicates || j.late != tt.late || j.concealed != tt.concealed || j.strays != tt.strays {
				t.Fatalf("duplicates %d late %d concealed %d strays %d; want %d %d %d %d", j.duplicates, j.late,
					j.concealed, j.strays, tt.duplicates, tt.late, tt.concealed, tt.strays)
			}
		})
	}
}

// FuzzJitter pushes arbitrary sequence numbers: the buffer stays within
// its slots, and between restarts what comes out is consecutive, each
// packet with its own payload.
func FuzzJitter(f *testing.F) {
	f.Add([]byte{0, 0, 0, 2, 0, 1, 0, 3})
	f.Add([]byte{0xff, 0xfe, 0, 0, 0xff, 0xff, 0, 1})
	f.Add([]byte{0, 0, 0x4e, 0x20, 0x4e, 0x21, 0, 1, 0, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		var j jitterBuffer
		var prev uint16
		have := false
		check := func(s *jitterSlot) {
			want := j.next - 1
			if have && want != prev+1 {
				t.Fatalf("popped %d after %d", want, prev)
			}
			if s != nil && (s.seq != want || binary.BigEndian.Uint16(s.payload) != want) {
				t.Fatalf("slot seq %d payload %x, want %d", s.seq, s.payload, want)
			}
			prev, have = want, true
		}
		drain := func() {
			for j.pending() > 0 {
				s, _ := j.pop(true)
				check(s)
			}
		}
		for len(data) >= 2 {
			seq := binary.BigEndian.Uint16(data)
			data = data[2:]
			payload := binary.BigEndian.AppendUint16(nil, seq)
			if j.push(seq, 0, 0, payload) == pushRestart {
				drain()
				j.restart(seq)
				have = false
				if r := j.push(seq, 0, 0, payload); r != pushStored {
					t.Fatalf("push after restart = %d", r)
				}
			}
			if j.pending() > jitterSlots {
				t.Fatalf("%d packets held", j.pending())
			}
			for {
				s, ok := j.pop(false)
				if !ok {
					break
				}
				check(s)
			}
		}
		drain()
	})
}
