package media

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"time"

	"github.com/pion/rtp"
)

// receiver is the state of the rx goroutine, which alone reads the RTP
// socket, runs the jitter buffer and the DTMF detector, and feeds Audio().
type receiver struct {
	s        *Session
	gen      uint64
	dec      Codec
	pt, dtmf uint8
	clock    uint32
	ptime    time.Duration
	ssrc     uint32
	haveSSRC bool
	frameLen int // samples of the last frame, the length of a concealed one
	rate     int // of the decoder: the rate of the frames delivered

	pkt      rtp.Packet
	jb       jitterBuffer
	detector Detector
	out      audioOut
	deadline bool // a read deadline is set to drain a stalled buffer
}

func (s *Session) rxLoop() {
	defer s.wg.Done()
	r := &receiver{s: s, out: newAudioOut(s.audio, &s.ctr.audioDropped)}
	defer close(s.dtmf)
	defer close(s.audio)
	buf := make([]byte, maxPacket+1)
	for {
		n, src, err := s.rtpConn.ReadFromUDPAddrPort(buf)
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded):
			r.drain()
			r.setDeadline()
			continue
		case err != nil && (errors.Is(err, net.ErrClosed) || s.ctx.Err() != nil):
			r.flushDigit()
			return
		case err != nil:
			s.log.Debug("rtp read", "err", err)
			continue
		}
		r.packet(buf[:n], unmap(src))
		r.setDeadline()
	}
}

// packet handles one datagram: validation, the symmetric-RTP latch, the
// SSRC, statistics, then the jitter buffer.
func (r *receiver) packet(b []byte, src netip.AddrPort) {
	s := r.s
	if len(b) > maxPacket || r.pkt.Unmarshal(b) != nil || r.pkt.Version != 2 {
		s.ctr.malformed.Add(1)
		return
	}
	r.reload()
	pt := r.pkt.PayloadType
	known := pt == r.pt || (r.dtmf != 0 && pt == r.dtmf)
	if !s.admit(src, known) {
		return
	}
	if !known {
		// Comfort noise and the like: not ours to play, but the sequence
		// number is spent, so the jitter buffer must see it.
		s.ctr.unexpectedPT.Add(1)
	}
	if !r.haveSSRC || r.pkt.SSRC != r.ssrc {
		r.newSource()
	}
	s.touch()
	s.ctr.packetsReceived.Add(1)
	s.ctr.bytesReceived.Add(uint64(len(r.pkt.Payload)))
	s.recvMu.Lock()
	s.recv.update(r.pkt.SequenceNumber, r.pkt.Timestamp, s.arrival(r.clock), r.clock, pt == r.pt)
	s.recvMu.Unlock()
	r.insert()
}

// admit applies the latch: the first valid packet's source becomes the
// remote; after that, other sources are counted and ignored.
func (s *Session) admit(src netip.AddrPort, valid bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.latched {
		if src != s.remote {
			s.ctr.foreign.Add(1)
			return false
		}
		return true
	}
	if !valid {
		s.ctr.unexpectedPT.Add(1)
		return false
	}
	if src != s.remote {
		s.log.Info("rtp source differs from SDP, latching", "sdp", s.remote, "source", src)
	}
	s.remote, s.latched = src, true
	s.rtcpRemote = rtcpAddr(src)
	return true
}

// newSource starts over for a new SSRC: a restarted sender or another
// media server behind the same address.
func (r *receiver) newSource() {
	if r.haveSSRC {
		r.s.log.Debug("rtp ssrc changed", "old", r.ssrc, "new", r.pkt.SSRC)
		r.drain()
		r.flushDigit()
	}
	r.ssrc, r.haveSSRC = r.pkt.SSRC, true
	r.jb.started = false
	r.s.recvMu.Lock()
	r.s.recv.reset(r.pkt.SSRC)
	r.s.recvMu.Unlock()
}

func (r *receiver) insert() {
	h := &r.pkt.Header
	res := r.jb.push(h.SequenceNumber, h.Timestamp, h.PayloadType, r.pkt.Payload)
	if res == pushRestart {
		r.drain()
		r.jb.restart(h.SequenceNumber)
		res = r.jb.push(h.SequenceNumber, h.Timestamp, h.PayloadType, r.pkt.Payload)
	}
	for res == pushStored {
		slot, ok := r.jb.pop(false)
		if !ok {
			break
		}
		r.deliver(slot)
	}
	r.syncJitterCounters()
}

// drain delivers everything held, concealing the gaps: the stream paused
// or jumped, so nothing missing will come in time.
func (r *receiver) drain() {
	for r.jb.pending() > 0 {
		slot, _ := r.jb.pop(true)
		r.deliver(slot)
	}
	r.syncJitterCounters()
}

func (r *receiver) deliver(slot *jitterSlot) {
	switch {
	case slot == nil:
		r.out.send(r.conceal(), r.rate)
	case slot.pt == r.pt:
		frame := r.dec.Decode(r.out.get(), slot.payload)
		if len(frame) > 0 {
			r.frameLen = len(frame)
		}
		r.out.send(frame, r.rate)
	case slot.pt == r.dtmf && r.dtmf != 0:
		digit, ok, err := r.detector.Packet(slot.ts, slot.payload)
		if err != nil {
			r.s.log.Debug("telephone-event", "err", err)
		}
		if ok {
			r.digit(digit)
		}
	}
}

// conceal returns a frame for a lost packet: the codec's own concealment
// when it has one, given the next packet if it is here and of the same
// codec (for in-band FEC); silence otherwise.
func (r *receiver) conceal() []int16 {
	c, ok := r.dec.(Concealer)
	if !ok {
		return silence(r.out.get(), r.frameLen)
	}
	var next []byte
	if s := r.jb.peek(); s != nil && s.pt == r.pt {
		next = s.payload
	}
	return c.Conceal(r.out.get(), r.frameLen, next)
}

func (r *receiver) flushDigit() {
	if d, ok := r.detector.Flush(); ok {
		r.digit(d)
	}
}

func (r *receiver) digit(d rune) {
	r.s.ctr.digitsReceived.Add(1)
	select {
	case r.s.dtmf <- d:
	default:
		r.s.log.Warn("dtmf digit dropped: reader too slow", "digit", string(d))
	}
}

func (r *receiver) syncJitterCounters() {
	c := &r.s.ctr
	c.duplicates.Store(r.jb.duplicates)
	c.late.Store(r.jb.late + r.jb.strays)
	c.concealed.Store(r.jb.concealed)
}

// setDeadline arms a read deadline while packets wait behind a gap, so a
// stream that stops there still delivers them.
func (r *receiver) setDeadline() {
	want := r.jb.pending() > 0
	if !want && !r.deadline {
		return
	}
	var t time.Time
	if want {
		t = time.Now().Add(jitterDepth * r.ptime)
	}
	if err := r.s.rtpConn.SetReadDeadline(t); err != nil {
		r.s.log.Debug("rtp read deadline", "err", err)
	}
	r.deadline = want
}

// reload picks up a configuration changed by Update.
func (r *receiver) reload() {
	s := r.s
	if g := s.gen.Load(); g == r.gen && r.dec != nil {
		return
	}
	s.mu.Lock()
	r.gen = s.gen.Load()
	r.dec, r.pt, r.dtmf = s.dec, s.cfg.Codec.PayloadType(), s.cfg.DTMF
	r.clock, r.ptime = s.cfg.Codec.ClockRate(), s.cfg.Ptime
	s.mu.Unlock()
	if rate := r.dec.SampleRate(); r.frameLen == 0 || rate != r.rate {
		r.frameLen = samples(rate, r.ptime)
		r.rate = rate
	}
}

// arrival is now in RTP timestamp units, for the jitter estimate.
func (s *Session) arrival(clock uint32) uint32 {
	d := time.Since(s.epoch)
	return uint32(uint64(d) * uint64(clock) / uint64(time.Second))
}

// silence returns n zero samples in dst's storage, growing it if needed.
func silence(dst []int16, n int) []int16 {
	if cap(dst) < n {
		return make([]int16, n)
	}
	dst = dst[:n]
	clear(dst)
	return dst
}

// samples is the number of samples in d at rate.
func samples(rate int, d time.Duration) int {
	return int(int64(rate) * int64(d) / int64(time.Second))
}
