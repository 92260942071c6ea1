package media

import (
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/pion/rtp"
)

const (
	// maxLag is how far the paced sender may fall behind (a stalled host)
	// before it gives up catching up with a burst and starts afresh.
	maxLag = 100 * time.Millisecond
	// digitDuration is how long a key sent by SendDigit is held.
	digitDuration = 100 * time.Millisecond
	// digitGap is the pause between two digits sent back to back.
	digitGap = 60 * time.Millisecond
)

// transmitter is the state of the tx goroutine, the only writer of both
// sockets: paced audio, silence, telephone events and RTCP reports.
type transmitter struct {
	s       *Session
	gen     uint64
	enc     Codec
	pt      uint8
	dtmfPT  uint8
	ptime   time.Duration
	timeout time.Duration
	tsStep  uint32 // RTP timestamp units per packet

	seq    uint16
	ts     uint32
	marker bool // the next audio packet starts a talkspurt
	sent   bool // RTP sent since the last report

	pkt     rtp.Packet
	pcm     []int16
	payload []byte
	buf     []byte

	digit    []Event // the key being sent
	digitIdx int
	digitTS  uint32
	gapTicks int

	nextRTCP time.Time
}

func (s *Session) txLoop() {
	defer s.wg.Done()
	t := &transmitter{
		s:      s,
		seq:    uint16(rand.Uint32()),
		ts:     rand.Uint32(),
		marker: true,
		buf:    make([]byte, maxPacket),
	}
	t.reload()
	start := time.Now()
	t.nextRTCP = start.Add(s.rtcpEvery / 2)
	// The schedule is absolute: tick k is due at start + k*interval, so a
	// late wake-up shortens the next wait instead of adding up as drift.
	next := start
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		spurt := false
		select {
		case <-s.ctx.Done():
			return
		case <-timer.C:
		case <-s.spurt:
			if !s.play.unstarted() {
				continue // a tick already began it (or it was stopped)
			}
			spurt = true
		}
		now := time.Now()
		if !t.tick(now) {
			return
		}
		step := t.interval()
		if spurt {
			// Audio after silence goes out at once and the schedule
			// restarts from it: the packet is early for its timestamp by
			// less than one interval, once, which a jitter buffer absorbs.
			next = now
		}
		next = next.Add(step)
		if lag := now.Sub(next); lag > maxLag {
			skipped := lag / step
			next = next.Add(skipped * step)
			t.ts += uint32(skipped) * t.tsStep // time went by: the timestamp says so
		}
		timer.Reset(time.Until(next))
	}
}

func (t *transmitter) interval() time.Duration {
	if t.s.pace > 0 {
		return t.s.pace
	}
	return t.ptime
}

// tick sends what is due now; it reports false when the session ended.
func (t *transmitter) tick(now time.Time) bool {
	s := t.s
	t.reload()
	if t.timedOut(now) {
		s.log.Info("media timeout", "after", t.timeout, "remote", s.RemoteAddr())
		s.cancel(ErrMediaTimeout)
		return false
	}
	if !now.Before(t.nextRTCP) {
		t.sendRTCP(now)
		// Randomised as RFC 3550 §6.3.1 asks, so that reports from many
		// sessions started together do not synchronise.
		t.nextRTCP = now.Add(time.Duration(float64(s.rtcpEvery) * (0.5 + rand.Float64())))
	}
	if s.hold.Load() {
		t.ts += t.tsStep
		t.marker = true
		return true
	}
	remote := s.RemoteAddr()
	if !t.sendDigit(remote) {
		t.sendAudio(remote)
	}
	t.ts += t.tsStep
	return true
}

func (t *transmitter) timedOut(now time.Time) bool {
	s := t.s
	if t.timeout <= 0 || s.hold.Load() {
		return false
	}
	return now.Sub(s.epoch)-time.Duration(s.lastRx.Load()) > t.timeout
}

func (t *transmitter) sendAudio(remote netip.AddrPort) {
	pcm := t.pcm
	if !t.s.play.next(pcm) {
		clear(pcm)
	}
	t.payload = t.enc.Encode(t.payload[:0], pcm)
	t.send(remote, t.pt, t.ts, t.marker, t.payload)
	t.marker = false
}

// sendDigit sends the next packet of a key press, if one is under way or
// queued; RFC 4733 §2.5: all packets of a press carry its start timestamp,
// the first has the marker bit, and each its own sequence number.
func (t *transmitter) sendDigit(remote netip.AddrPort) bool {
	if t.digit == nil && !t.startDigit() {
		return false
	}
	e := t.digit[t.digitIdx]
	t.send(remote, t.dtmfPT, t.digitTS, t.digitIdx == 0, e.Marshal())
	t.digitIdx++
	if t.digitIdx == len(t.digit) {
		t.digit = nil
		t.gapTicks = int((digitGap + t.ptime - 1) / t.ptime)
		t.s.ctr.digitsSent.Add(1)
	}
	return true
}

func (t *transmitter) startDigit() bool {
	if t.gapTicks > 0 {
		t.gapTicks--
		return false
	}
	if t.dtmfPT == 0 {
		return false
	}
	var d rune
	select {
	case d = <-t.s.digits:
	default:
		return false
	}
	duration := uint16(uint64(t.enc.ClockRate()) * uint64(digitDuration) / uint64(time.Second))
	events, err := EncodeDigit(d, duration, uint16(t.tsStep))
	if err != nil {
		t.s.log.Warn("send digit", "err", err) // SendDigit checked it
		return false
	}
	t.digit, t.digitIdx, t.digitTS = events, 0, t.ts
	return true
}

func (t *transmitter) send(remote netip.AddrPort, pt uint8, ts uint32, marker bool, payload []byte) {
	s := t.s
	if !remote.IsValid() {
		return // nowhere to send yet: the first packet will latch it
	}
	h := &t.pkt.Header
	h.Version, h.PayloadType, h.SequenceNumber, h.Timestamp = 2, pt, t.seq, ts
	h.SSRC, h.Marker = s.ssrc, marker
	t.pkt.Payload = payload
	n, err := t.pkt.MarshalTo(t.buf)
	if err != nil {
		s.log.Warn("rtp marshal", "err", err)
		return
	}
	t.seq++
	if _, err := s.rtpConn.WriteToUDPAddrPort(t.buf[:n], remote); err != nil {
		s.log.Debug("rtp write", "remote", remote, "err", err)
		return
	}
	s.ctr.packetsSent.Add(1)
	s.ctr.bytesSent.Add(uint64(len(payload)))
	t.sent = true
}

func (t *transmitter) sendRTCP(now time.Time) {
	s := t.s
	data, err := s.rtcpReport(now, t.ts, t.sent)
	if err != nil {
		s.log.Warn("rtcp report", "err", err)
		return
	}
	t.sent = false
	s.mu.Lock()
	dst := s.rtcpRemote
	s.mu.Unlock()
	if !dst.IsValid() {
		return
	}
	if _, err := s.rtcpConn.WriteToUDPAddrPort(data, dst); err != nil {
		s.log.Debug("rtcp write", "remote", dst, "err", err)
		return
	}
	s.ctr.rtcpSent.Add(1)
}

// reload picks up a configuration changed by Update.
func (t *transmitter) reload() {
	s := t.s
	if t.enc != nil && s.gen.Load() == t.gen {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t.gen = s.gen.Load()
	if t.enc != nil && !sameCodec(t.enc, s.enc) {
		t.marker = true
	}
	t.enc, t.pt, t.dtmfPT = s.enc, s.cfg.Codec.PayloadType(), s.cfg.DTMF
	t.ptime, t.timeout = s.cfg.Ptime, s.cfg.MediaTimeout
	t.tsStep = uint32(uint64(t.enc.ClockRate()) * uint64(t.ptime) / uint64(time.Second))
	if n := samples(t.enc.SampleRate(), t.ptime); cap(t.pcm) < n {
		t.pcm = make([]int16, n)
	} else {
		t.pcm = t.pcm[:n]
	}
}
