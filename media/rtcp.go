package media

import (
	"errors"
	"net"
	"net/netip"
	"time"

	"github.com/pion/rtcp"
)

// recvStats is RFC 3550's per-source reception state: sequence number
// accounting (A.1), loss (A.3) and interarrival jitter (A.8). The rx
// goroutine updates it; tx reads it for reports; recvMu guards it.
type recvStats struct {
	ssrc          uint32
	started       bool
	maxSeq        uint16
	cycles        uint32 // sequence number wraps, shifted left 16
	baseSeq       uint32
	badSeq        uint32
	received      uint32
	expectedPrior uint32
	receivedPrior uint32

	clock       uint32
	transit     uint32
	haveTransit bool
	jitter      float64 // in timestamp units

	lastSR   uint32        // middle 32 bits of the NTP time of the remote's last SR
	lastSRAt time.Duration // when it arrived, since the session epoch
	haveSR   bool

	remote ReceptionReport
}

const noSeq = 1 << 16 // a badSeq no sequence number equals

func (r *recvStats) reset(ssrc uint32) {
	remote := r.remote
	*r = recvStats{ssrc: ssrc, badSeq: noSeq, remote: remote}
}

// update counts a packet (A.1's update_seq) and, for audio, updates the
// jitter estimate; arrival is in the same timestamp units as ts.
func (r *recvStats) update(seq uint16, ts, arrival, clock uint32, audio bool) {
	if !r.started {
		r.started, r.baseSeq, r.maxSeq, r.badSeq = true, uint32(seq), seq, noSeq
	}
	udelta := seq - r.maxSeq
	switch {
	case udelta < maxDropout:
		if seq < r.maxSeq {
			r.cycles += 1 << 16
		}
		r.maxSeq = seq
	case udelta <= 1<<16-maxMisorder:
		if uint32(seq) != r.badSeq {
			r.badSeq = uint32(seq+1) & 0xffff
			return
		}
		// Two packets in sequence after a jump: the sender restarted.
		*r = recvStats{ssrc: r.ssrc, started: true, baseSeq: uint32(seq), maxSeq: seq, badSeq: noSeq,
			lastSR: r.lastSR, lastSRAt: r.lastSRAt, haveSR: r.haveSR, remote: r.remote}
	}
	r.received++
	if !audio {
		return // telephone events keep the timestamp of the press start
	}
	transit := arrival - ts
	if r.haveTransit && clock == r.clock {
		d := float64(int32(transit - r.transit))
		if d < 0 {
			d = -d
		}
		r.jitter += (d - r.jitter) / 16
	}
	r.transit, r.haveTransit, r.clock = transit, true, clock
}

func (r *recvStats) expected() uint32 {
	return r.cycles + uint32(r.maxSeq) - r.baseSeq + 1
}

func (r *recvStats) lost() int64 {
	if !r.started {
		return 0
	}
	return int64(r.expected()) - int64(r.received)
}

func (r *recvStats) jitterDuration() time.Duration {
	if r.clock == 0 {
		return 0
	}
	return time.Duration(r.jitter / float64(r.clock) * float64(time.Second))
}

// report builds the reception report block (§6.4.1) and starts a new
// interval for the fraction lost.
func (r *recvStats) report(now time.Duration) (rtcp.ReceptionReport, bool) {
	if !r.started {
		return rtcp.ReceptionReport{}, false
	}
	expected := r.expected()
	expectedInterval := expected - r.expectedPrior
	receivedInterval := r.received - r.receivedPrior
	r.expectedPrior, r.receivedPrior = expected, r.received
	var fraction uint8
	if lostInterval := int64(expectedInterval) - int64(receivedInterval); expectedInterval > 0 && lostInterval > 0 {
		fraction = uint8(lostInterval << 8 / int64(expectedInterval))
	}
	rr := rtcp.ReceptionReport{
		SSRC:               r.ssrc,
		FractionLost:       fraction,
		TotalLost:          uint32(min(max(r.lost(), 0), 0x7fffff)),
		LastSequenceNumber: r.cycles + uint32(r.maxSeq),
		Jitter:             uint32(r.jitter),
	}
	if r.haveSR {
		rr.LastSenderReport = r.lastSR
		rr.Delay = uint32((now - r.lastSRAt) * 65536 / time.Second)
	}
	return rr, true
}

// rtcpReport builds our compound report: a sender report when we sent RTP
// since the last one, else a receiver report, then the SDES CNAME that
// RFC 3550 §6.1 requires in every compound packet.
func (s *Session) rtcpReport(now time.Time, rtpTime uint32, sending bool) ([]byte, error) {
	s.recvMu.Lock()
	rr, ok := s.recv.report(now.Sub(s.epoch))
	s.recvMu.Unlock()
	var reports []rtcp.ReceptionReport
	if ok {
		reports = []rtcp.ReceptionReport{rr}
	}
	var first rtcp.Packet = &rtcp.ReceiverReport{SSRC: s.ssrc, Reports: reports}
	if sending {
		first = &rtcp.SenderReport{
			SSRC:        s.ssrc,
			NTPTime:     ntpTime(now),
			RTPTime:     rtpTime,
			PacketCount: uint32(s.ctr.packetsSent.Load()),
			OctetCount:  uint32(s.ctr.bytesSent.Load()),
			Reports:     reports,
		}
	}
	return rtcp.Marshal([]rtcp.Packet{first, rtcp.NewCNAMESourceDescription(s.ssrc, s.cname)})
}

// ntpTime is t as a 64-bit NTP timestamp (seconds since 1900, 32.32).
func ntpTime(t time.Time) uint64 {
	const ntpEpochOffset = 2208988800
	secs := uint64(t.Unix() + ntpEpochOffset)
	frac := uint64(t.Nanosecond()) << 32 / uint64(time.Second)
	return secs<<32 | frac
}

// rtcpLoop reads incoming RTCP: the remote's reports are kept for Stats,
// the rest is logged and ignored.
func (s *Session) rtcpLoop() {
	defer s.wg.Done()
	buf := make([]byte, maxPacket+1)
	for {
		n, src, err := s.rtcpConn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) || s.ctx.Err() != nil {
				return
			}
			s.log.Debug("rtcp read", "err", err)
			continue
		}
		if n > maxPacket {
			s.ctr.malformed.Add(1)
			continue
		}
		if !s.admitRTCP(unmap(src)) {
			s.ctr.foreign.Add(1)
			continue
		}
		pkts, err := rtcp.Unmarshal(buf[:n])
		if err != nil {
			s.ctr.malformed.Add(1)
			s.log.Debug("rtcp parse", "err", err)
			continue
		}
		s.ctr.rtcpReceived.Add(1)
		s.handleRTCP(pkts)
	}
}

// admitRTCP accepts RTCP from the remote's address, on any port (NAT),
// and sends our reports back where it came from.
func (s *Session) admitRTCP(src netip.AddrPort) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.remote.IsValid() || src.Addr() != s.remote.Addr() {
		return false
	}
	s.rtcpRemote = src
	return true
}

func (s *Session) handleRTCP(pkts []rtcp.Packet) {
	now := time.Since(s.epoch)
	s.mu.Lock()
	clock := s.cfg.Codec.ClockRate()
	s.mu.Unlock()
	s.recvMu.Lock()
	defer s.recvMu.Unlock()
	for _, p := range pkts {
		switch p := p.(type) {
		case *rtcp.SenderReport:
			s.recv.lastSR, s.recv.lastSRAt, s.recv.haveSR = uint32(p.NTPTime>>16), now, true
			s.remoteReports(p.Reports, clock)
		case *rtcp.ReceiverReport:
			s.remoteReports(p.Reports, clock)
		case *rtcp.Goodbye:
			s.log.Debug("rtcp bye from remote", "reason", p.Reason)
		}
	}
}

// remoteReports keeps the block about our stream; recvMu is held.
func (s *Session) remoteReports(reports []rtcp.ReceptionReport, clock uint32) {
	for _, rr := range reports {
		if rr.SSRC != s.ssrc {
			continue
		}
		jitter := time.Duration(rr.Jitter) * time.Second / time.Duration(clock)
		s.recv.remote = ReceptionReport{FractionLost: rr.FractionLost, TotalLost: rr.TotalLost, Jitter: jitter}
		s.log.Debug("rtcp report from remote", "fraction_lost", rr.FractionLost, "total_lost", rr.TotalLost, "jitter", rr.Jitter)
	}
}
