package media

import (
	"sync/atomic"
	"time"
)

// Stats is a snapshot of a session's counters. Byte counts are RTP
// payload bytes, as in RTCP sender reports. The gateway turns them into
// metrics; this package keeps no global state.
type Stats struct {
	PacketsSent, BytesSent         uint64
	PacketsReceived, BytesReceived uint64 // valid RTP from the remote
	// Lost is RFC 3550's cumulative number of packets lost: expected
	// minus received, never below zero, for the remote's current SSRC.
	Lost uint64
	// Concealed counts the silence frames put into Audio() for packets
	// that did not arrive in time.
	Concealed  uint64
	Duplicates uint64
	// Late counts packets that arrived after their turn, and strays whose
	// sequence number was far off.
	Late uint64
	// Malformed counts datagrams dropped as oversized (> 1500 bytes), not
	// RTP version 2, or truncated.
	Malformed uint64
	// UnexpectedPayload counts packets of a payload type that was not
	// negotiated (comfort noise, for one).
	UnexpectedPayload uint64
	// Foreign counts packets from a source other than the latched remote.
	Foreign uint64
	// AudioDropped counts decoded frames dropped because the reader of
	// Audio() was too slow.
	AudioDropped               uint64
	DigitsReceived, DigitsSent uint64
	RTCPSent, RTCPReceived     uint64
	// Jitter is RFC 3550's interarrival jitter estimate of the remote's
	// audio (A.8).
	Jitter time.Duration
	// Remote is what the remote's last RTCP report said about our stream.
	Remote ReceptionReport
}

// ReceptionReport is the remote's view of the stream we send.
type ReceptionReport struct {
	FractionLost uint8  // of the packets sent since its previous report, in 1/256
	TotalLost    uint32 // cumulative
	Jitter       time.Duration
}

type counters struct {
	packetsSent, bytesSent         atomic.Uint64
	packetsReceived, bytesReceived atomic.Uint64
	concealed, duplicates, late    atomic.Uint64
	malformed, unexpectedPT        atomic.Uint64
	foreign, audioDropped          atomic.Uint64
	digitsReceived, digitsSent     atomic.Uint64
	rtcpSent, rtcpReceived         atomic.Uint64
}

// Stats returns the session's counters so far.
func (s *Session) Stats() Stats {
	c := &s.ctr
	st := Stats{
		PacketsSent:       c.packetsSent.Load(),
		BytesSent:         c.bytesSent.Load(),
		PacketsReceived:   c.packetsReceived.Load(),
		BytesReceived:     c.bytesReceived.Load(),
		Concealed:         c.concealed.Load(),
		Duplicates:        c.duplicates.Load(),
		Late:              c.late.Load(),
		Malformed:         c.malformed.Load(),
		UnexpectedPayload: c.unexpectedPT.Load(),
		Foreign:           c.foreign.Load(),
		AudioDropped:      c.audioDropped.Load(),
		DigitsReceived:    c.digitsReceived.Load(),
		DigitsSent:        c.digitsSent.Load(),
		RTCPSent:          c.rtcpSent.Load(),
		RTCPReceived:      c.rtcpReceived.Load(),
	}
	s.recvMu.Lock()
	st.Lost = uint64(max(s.recv.lost(), 0))
	st.Jitter = s.recv.jitterDuration()
	st.Remote = s.recv.remote
	s.recvMu.Unlock()
	return st
}
