package voice_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"switchboard/channels/voice"
	"switchboard/store"
)

// refused fills testdata/sipp/voice_rejected.xml.tmpl.
type refused struct {
	SDP     string
	Status  int
	Warning bool
}

const goodSDP = `      v=0
      o=caller 1 1 IN IP4 127.0.0.1
      s=-
      c=IN IP4 127.0.0.1
      t=0 0
      m=audio [media_port] RTP/AVP 0
      a=rtpmap:0 PCMU/8000`

// Calls the gateway must refuse get a clear status, nothing is stored for
// them, and the gateway goes on serving: a normal call afterwards works.
func TestRefusedCallsAndTheGatewayKeepsServing(t *testing.T) {
	t.Parallel()
	r := newRig(t, "sip:support-desk@127.0.0.1:5999", "refer", nil)
	for _, tc := range []struct {
		name string
		from string // sipp's source address
		scen refused
	}{
		// The trunk allows 127.0.0.1/32 only; 127.0.0.2 is another host.
		{"unknown source", "127.0.0.2", refused{SDP: goodSDP, Status: 403}},
		{"no common codec", "127.0.0.1", refused{SDP: strings.Replace(strings.Replace(goodSDP, "RTP/AVP 0", "RTP/AVP 18", 1),
			"a=rtpmap:0 PCMU/8000", "a=rtpmap:18 G729/8000", 1), Status: 488, Warning: true}},
		{"malformed SDP", "127.0.0.1", refused{SDP: "      this is not SDP\n      m=audio banana", Status: 400}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startSipp(t, scenario(t, "voice_rejected.xml.tmpl", tc.scen), r.sipAddr.String(), freeUDPPort(t), "-i", tc.from)
			s.wait(t, 60*time.Second)
		})
	}
	if n := counter(t, r, "switchboard_sip_rejected_total"); n < 1 {
		t.Errorf("the unknown source was not counted: switchboard_sip_rejected_total = %v", n)
	}
	// Garbage on the SIP port is dropped without an answer or a crash.
	c, err := net.Dial("udp", r.sipAddr.String())
	if err != nil {
		t.Fatal(err)
	}
	for _, junk := range []string{"\x00\x01\x02", "INVITE sip:x SIP/2.0\r\nVia: broken\r\n\r\n", strings.Repeat("A", 60000)} {
		_, _ = c.Write([]byte(junk))
	}
	c.Close()
	convs, err := r.core.Store.ListConversations(context.Background(), store.ListFilter{})
	if err != nil || len(convs) != 0 {
		t.Fatalf("refused calls left conversations: %v %v", convs, err)
	}
	s := startSipp(t, scenario(t, "voice_caller.xml.tmpl", caller{PT: 0, Codec: "PCMU", PauseMs: 1000, Play: dtmfZero,
		Refer: "accept", After: "recv_bye", TimeoutMs: 15000}), r.sipAddr.String(), freeUDPPort(t))
	s.wait(t, 60*time.Second)
	if _, _, hs := r.conversation(t); len(hs) != 1 {
		t.Fatalf("the call after the refusals was not handed off: %+v", hs)
	}
}

// A caller who hangs up while it rings: CANCEL, 487, and no conversation.
func TestCancelBeforeAnswer(t *testing.T) {
	t.Parallel()
	r := newRig(t, "sip:support-desk@127.0.0.1:5999", "refer", func(l *voice.Live) { l.Voice.RingBeforeAnswer = 5 * time.Second })
	s := startSipp(t, "../../testdata/sipp/voice_cancel.xml", r.sipAddr.String(), freeUDPPort(t))
	s.wait(t, 60*time.Second)
	convs, err := r.core.Store.ListConversations(context.Background(), store.ListFilter{})
	if err != nil || len(convs) != 0 {
		t.Fatalf("a cancelled call left conversations: %v %v", convs, err)
	}
}

// counter sums a metric family of the rig's registry (histograms: their
// sample counts).
func counter(t *testing.T, r *rig, name string) float64 {
	t.Helper()
	mfs, err := r.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			sum += m.GetCounter().GetValue() + m.GetGauge().GetValue() + float64(m.GetHistogram().GetSampleCount())
		}
	}
	return sum
}
