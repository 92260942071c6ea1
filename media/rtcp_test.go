package media

import (
	"net/netip"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pion/rtcp"
)

func TestRecvStatsCountsLossAcrossTheWrap(t *testing.T) {
	var r recvStats
	r.reset(7)
	seq := uint16(65530)
	for i := range 20 {
		if i != 3 && i != 10 { // 65533 and 4 are lost
			r.update(seq, uint32(i*160), uint32(i*160), 8000, true)
		}
		seq++
	}
	rr, ok := r.report(0)
	if !ok {
		t.Fatal("no report")
	}
	want := rtcp.ReceptionReport{SSRC: 7, FractionLost: 2 * 256 / 20, TotalLost: 2, LastSequenceNumber: 1<<16 + 13}
	if rr != want {
		t.Fatalf("report %+v, want %+v", rr, want)
	}
	// The next interval had no loss.
	r.update(seq, 20*160, 20*160, 8000, true)
	if rr, _ = r.report(0); rr.FractionLost != 0 || rr.TotalLost != 2 {
		t.Fatalf("second report %+v", rr)
	}
}

func TestRecvStatsJitterFollowsRFC3550(t *testing.T) {
	var r recvStats
	r.reset(1)
	// Every other packet arrives 80 timestamp units (10 ms) late: each
	// transit difference is 80, and J converges on it.
	for i := range 400 {
		arrival := uint32(i * 160)
		if i%2 == 1 {
			arrival += 80
		}
		r.update(uint16(i), uint32(i*160), arrival, 8000, true)
	}
	if got := r.jitterDuration(); got < 9*time.Millisecond || got > 10*time.Millisecond {
		t.Fatalf("jitter %v, want about 10ms", got)
	}
}

func TestReceiverReportCarriesLoss(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newMemNet()
		s, peer := startMem(t, n, SessionConfig{})
		peerRTCP := n.listen(t, "10.0.0.2:30001")
		const peerSSRC = 0xfeed
		feed(t, peer, peerSSRC, 1000, 50, 1010, 1020, 1021)
		// The first report goes out half an interval after Start, 2.5 s.
		time.Sleep(2 * time.Second)
		synctest.Wait()
		var reports []rtcp.Packet
		for _, p := range peerRTCP.packets() {
			pkts, err := rtcp.Unmarshal(p.data)
			if err != nil {
				t.Fatal(err)
			}
			reports = append(reports, pkts...)
		}
		if len(reports) != 2 {
			t.Fatalf("got %d RTCP packets, want SR and SDES: %v", len(reports), reports)
		}
		sr, ok := reports[0].(*rtcp.SenderReport)
		if !ok {
			t.Fatalf("first packet %T, want a sender report", reports[0])
		}
		if sr.SSRC != s.ssrc || sr.PacketCount == 0 || sr.OctetCount != 160*sr.PacketCount || len(sr.Reports) != 1 {
			t.Fatalf("sender report %+v", sr)
		}
		rr := sr.Reports[0]
		if rr.SSRC != peerSSRC || rr.TotalLost != 3 || rr.FractionLost != 3*256/50 || rr.LastSequenceNumber != 1049 || rr.Jitter != 0 {
			t.Fatalf("reception report %+v, want 3 of 50 lost up to 1049, no jitter", rr)
		}
		if sdes, ok := reports[1].(*rtcp.SourceDescription); !ok || sdes.Chunks[0].Items[0].Type != rtcp.SDESCNAME {
			t.Fatalf("second packet %v, want SDES with CNAME", reports[1])
		}

		// And the session reads the peer's report about our stream.
		b, err := rtcp.Marshal([]rtcp.Packet{&rtcp.ReceiverReport{SSRC: peerSSRC, Reports: []rtcp.ReceptionReport{
			{SSRC: s.ssrc, FractionLost: 25, TotalLost: 7, Jitter: 80}}}})
		if err != nil {
			t.Fatal(err)
		}
		peerRTCP.WriteToUDPAddrPort(b, netip.MustParseAddrPort("10.0.0.1:20001"))
		synctest.Wait()
		want := ReceptionReport{FractionLost: 25, TotalLost: 7, Jitter: 10 * time.Millisecond}
		if got := s.Stats().Remote; got != want || s.Stats().RTCPReceived != 1 {
			t.Fatalf("remote report %+v, want %+v", got, want)
		}
	})
}
