package sip

import (
	"errors"
	"strings"
	"testing"

	"github.com/pion/sdp/v3"
)

func TestBuildOffer(t *testing.T) {
	opus := Codec{Name: "opus", PayloadType: 111, ClockRate: 48000}
	tests := []struct {
		name  string
		pref  []Codec
		mline string
		attrs []string
	}{
		{name: "default", mline: "m=audio 40000 RTP/AVP 9 0 8 101",
			attrs: []string{"a=rtpmap:9 G722/8000", "a=rtpmap:0 PCMU/8000", "a=rtpmap:8 PCMA/8000",
				"a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-16", "a=ptime:20", "a=sendrecv"}},
		{name: "two clock rates", pref: []Codec{opus, {Name: "PCMU", PayloadType: 0, ClockRate: 8000}},
			mline: "m=audio 40000 RTP/AVP 111 0 101 102",
			attrs: []string{"a=rtpmap:101 telephone-event/48000", "a=rtpmap:102 telephone-event/8000"}},
		{name: "telephone-event skips a used type", pref: []Codec{{Name: "X", PayloadType: 101, ClockRate: 8000}},
			mline: "m=audio 40000 RTP/AVP 101 102", attrs: []string{"a=rtpmap:102 telephone-event/8000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			local := local4
			local.Preference = tt.pref
			raw, err := BuildOffer(local)
			if err != nil {
				t.Fatal(err)
			}
			offer := string(raw)
			for _, want := range append([]string{tt.mline, "o=- 4242 1 IN IP4 198.51.100.1", "c=IN IP4 198.51.100.1"}, tt.attrs...) {
				if !strings.Contains(offer, want+"\r\n") {
					t.Errorf("offer lacks %q:\n%s", want, offer)
				}
			}
			// The offer is one a peer can answer.
			if _, err := Negotiate(raw, Local{Addr: local4.Addr.Next(), Port: 5000, Preference: tt.pref}); err != nil && tt.pref == nil {
				t.Errorf("Negotiate(our offer): %v", err)
			}
		})
	}
	if _, err := BuildOffer(Local{}); !errors.Is(err, ErrLocalMisconfigured) {
		t.Errorf("BuildOffer(zero Local) = %v, want ErrLocalMisconfigured", err)
	}
}

func TestParseAnswer(t *testing.T) {
	offer, err := BuildOffer(local4)
	if err != nil {
		t.Fatal(err)
	}
	head := "v=0\r\no=- 1 1 IN IP4 192.0.2.5\r\ns=-\r\nc=IN IP4 192.0.2.5\r\nt=0 0\r\n"
	tests := []struct {
		name    string
		answer  string
		codec   Codec
		dtmf    uint8
		remote  string
		dir     string
		status  int
		wantErr error
	}{
		{name: "pcmu with dtmf", answer: head + "m=audio 7000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n",
			codec: Codec{"PCMU", 0, 8000}, dtmf: 101, remote: "192.0.2.5:7000", dir: "sendrecv"},
		{name: "first listed wins", answer: head + "m=audio 7000 RTP/AVP 8 9\r\na=sendonly\r\n",
			codec: Codec{"PCMA", 8, 8000}, remote: "192.0.2.5:7000", dir: "recvonly"},
		{name: "hold by zero address", answer: "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 7000 RTP/AVP 9\r\n",
			codec: Codec{"G722", 9, 8000}, remote: "0.0.0.0:7000", dir: "recvonly"},
		{name: "rejected stream", answer: head + "m=audio 0 RTP/AVP 0\r\n", status: 488, wantErr: ErrNoAudio},
		{name: "codec we did not offer", answer: head + "m=audio 7000 RTP/AVP 18\r\n", status: 488, wantErr: ErrNoCommonCodec},
		{name: "only telephone-event", answer: head + "m=audio 7000 RTP/AVP 101\r\na=rtpmap:101 telephone-event/8000\r\n", status: 488, wantErr: ErrNoCommonCodec},
		{name: "srtp", answer: head + "m=audio 7000 RTP/SAVP 0\r\n", status: 488, wantErr: ErrSRTPNotSupported},
		{name: "no m line", answer: head, status: 400, wantErr: ErrSDPMalformed},
		{name: "garbage", answer: "hello", status: 400, wantErr: ErrSDPMalformed},
		{name: "too large", answer: head + strings.Repeat("a=x\r\n", MaxSDPSize/5+1), status: 400, wantErr: ErrSDPTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ans, err := ParseAnswer(offer, []byte(tt.answer))
			if tt.wantErr != nil {
				var se *Error
				if !errors.Is(err, tt.wantErr) || !errors.As(err, &se) || se.Status != tt.status {
					t.Fatalf("err %v, want %v with status %d", err, tt.wantErr, tt.status)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ans.Codec != tt.codec || ans.DTMF != tt.dtmf || ans.RemoteAddr.String() != tt.remote || ans.Direction != tt.dir {
				t.Errorf("got %+v %d %s %s", ans.Codec, ans.DTMF, ans.RemoteAddr, ans.Direction)
			}
		})
	}
}

func FuzzParseAnswer(f *testing.F) {
	// Seeds live in testdata/fuzz/FuzzParseAnswer.
	offer, err := BuildOffer(local4)
	if err != nil {
		f.Fatal(err)
	}
	var o sdp.SessionDescription
	if err := o.Unmarshal(offer); err != nil {
		f.Fatal(err)
	}
	offered := offeredCodecs(o.MediaDescriptions[0])
	f.Fuzz(func(t *testing.T, answer []byte) {
		ans, err := ParseAnswer(offer, answer)
		if err != nil {
			var se *Error
			if !errors.As(err, &se) || (se.Status != 400 && se.Status != 488) {
				t.Fatalf("error %v is not an *Error with 400 or 488", err)
			}
			if !warningRE.MatchString(se.Warning) {
				t.Fatalf("Warning %q is not an RFC 3261 warning-value", se.Warning)
			}
			return
		}
		found := false
		for _, c := range offered {
			found = found || (strings.EqualFold(c.Name, ans.Codec.Name) && c.ClockRate == ans.Codec.ClockRate)
		}
		if !found || !ans.RemoteAddr.IsValid() || ans.RemoteAddr.Addr().Is4() != local4.Addr.Is4() {
			t.Fatalf("answer %+v: codec not offered or bad address", ans)
		}
	})
}
