package media

const (
	// jitterSlots bounds the packets held; a power of two so that a
	// sequence number maps to its slot with a mask.
	jitterSlots = 16
	// jitterDepth is how many newer packets may arrive before a missing one
	// is declared lost: 60 ms at 20 ms packets. In-order packets leave at
	// once, so only a gap costs latency.
	jitterDepth = 3
	// maxMisorder and maxDropout are RFC 3550 A.1's limits: a packet
	// further behind or ahead is a stray unless the next one confirms the
	// jump (a restarted sender).
	maxMisorder = 100
	maxDropout  = 3000
)

// pushResult says what push did with a packet.
type pushResult int

const (
	pushStored    pushResult = iota
	pushDuplicate            // already held or delivered
	pushLate                 // its turn passed (concealed or flushed)
	pushStray                // a jump not (yet) confirmed: dropped
	pushRestart              // a jump: drain, then restart and push again
)

// jitterSlot is one held packet. Its payload buffer is reused.
type jitterSlot struct {
	used    bool
	seq     uint16
	ts      uint32
	pt      uint8
	payload []byte
}

// jitterBuffer puts RTP packets back in sequence order. It is a pure data
// structure with no clock: the receiver pops after every push and drains
// when the stream pauses. Sequence numbers compare modulo 2^16.
type jitterBuffer struct {
	slots   [jitterSlots]jitterSlot
	started bool
	next    uint16 // sequence number due next
	highest uint16 // newest held, valid while count > 0
	count   int
	// delivered has bit i set when next-1-i was delivered rather than
	// concealed, which tells a duplicate from a late packet.
	delivered uint64
	probe     uint16 // sequence number that would confirm a jump
	probing   bool

	duplicates, late, concealed, strays uint64
}

// push stores a packet; its payload is copied. On pushRestart the caller
// drains the buffer, calls restart(seq) and pushes the packet again.
func (j *jitterBuffer) push(seq uint16, ts uint32, pt uint8, payload []byte) pushResult {
	if !j.started {
		j.restart(seq)
	}
	d := int(int16(seq - j.next))
	switch {
	case d < 0 && d >= -maxMisorder:
		if i := -d - 1; i < 64 && j.delivered>>i&1 == 1 {
			j.duplicates++
			return pushDuplicate
		}
		j.late++
		return pushLate
	case d >= 0 && d < jitterSlots:
		return j.store(seq, ts, pt, payload)
	case d >= jitterSlots && d < maxDropout:
		// Further ahead than we can hold: whatever is missing before it is
		// not coming back in time.
		return pushRestart
	}
	if j.probing && seq == j.probe {
		return pushRestart
	}
	j.probe, j.probing = seq+1, true
	j.strays++
	return pushStray
}

func (j *jitterBuffer) store(seq uint16, ts uint32, pt uint8, payload []byte) pushResult {
	s := &j.slots[seq%jitterSlots]
	if s.used {
		// Slots in use all lie within [next, next+jitterSlots), one per
		// sequence number, so this is the same packet again.
		j.duplicates++
		return pushDuplicate
	}
	s.used, s.seq, s.ts, s.pt = true, seq, ts, pt
	s.payload = append(s.payload[:0], payload...)
	if j.count == 0 || int16(seq-j.highest) > 0 {
		j.highest = seq
	}
	j.count++
	j.probing = false
	return pushStored
}

// pop returns the packet due next. A nil slot with ok means the packet
// due was lost and must be concealed: that is decided once jitterDepth
// newer packets are held, or at once when force is set (draining). The
// slot stays valid until the next push.
func (j *jitterBuffer) pop(force bool) (slot *jitterSlot, ok bool) {
	if j.count == 0 {
		return nil, false
	}
	s := &j.slots[j.next%jitterSlots]
	if s.used && s.seq == j.next {
		s.used = false
		j.count--
		j.next++
		j.delivered = j.delivered<<1 | 1
		return s, true
	}
	if !force && int(j.highest-j.next) < jitterDepth {
		return nil, false
	}
	j.next++
	j.delivered <<= 1
	j.concealed++
	return nil, true
}

// peek returns the packet due next if it is held, without taking it: after
// pop reports a loss, the packet that followed the lost one, from which a
// codec with in-band FEC recovers it.
func (j *jitterBuffer) peek() *jitterSlot {
	s := &j.slots[j.next%jitterSlots]
	if j.count == 0 || !s.used || s.seq != j.next {
		return nil
	}
	return s
}

// pending is the number of packets held.
func (j *jitterBuffer) pending() int { return j.count }

// restart makes seq the next packet due; the buffer must be empty.
func (j *jitterBuffer) restart(seq uint16) {
	j.started = true
	j.next = seq
	j.count = 0
	j.delivered = 0
	j.probing = false
	for i := range j.slots {
		j.slots[i].used = false
	}
}
