package sip

import (
	"bytes"
	"errors"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pion/sdp/v3"
)

var update = flag.Bool("update", false, "rewrite golden SDP answers in testdata/sdp/golden")

var (
	local4 = Local{Addr: netip.MustParseAddr("198.51.100.1"), Port: 40000, SessionID: 4242, SessionVersion: 1}
	local6 = Local{Addr: netip.MustParseAddr("2001:db8::1"), Port: 40000, SessionID: 4242, SessionVersion: 1}
)

// warningRE is RFC 3261 §20.43: warn-code SP warn-agent SP quoted-string.
var warningRE = regexp.MustCompile(`^3\d\d switchboard "[ !#-\[\]-~]*"$`)

// readOffer loads an offer and gives it CRLF line ends, as it arrives in a SIP body.
func readOffer(t testing.TB, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "sdp", name))
	if err != nil {
		t.Fatal(err)
	}
	return bytes.ReplaceAll(raw, []byte("\n"), []byte("\r\n"))
}

func TestNegotiateOffers(t *testing.T) {
	opus := Codec{Name: "opus", PayloadType: 111, ClockRate: 48000}
	tests := []struct {
		file    string
		local   Local
		pref    []Codec
		codec   Codec
		dtmf    uint8
		remote  string
		dir     string
		ptime   int
		status  int
		wantErr error
		warning string // substring of the Warning value
	}{
		{file: "twilio.sdp", codec: Codec{"PCMU", 0, 8000}, dtmf: 101, remote: "54.172.60.1:16970", dir: "sendrecv", ptime: 20},
		{file: "pbx_g722.sdp", codec: Codec{"G722", 9, 8000}, dtmf: 96, remote: "10.20.0.5:24580", dir: "sendrecv", ptime: 20},
		{file: "linphone_opus.sdp", codec: Codec{"G722", 9, 8000}, dtmf: 99, remote: "192.168.1.34:7078", dir: "sendrecv"},
		{file: "baresip_dynamic_g722.sdp", codec: Codec{"G722", 9, 8000}, dtmf: 101, remote: "192.0.2.10:10000", dir: "sendrecv", ptime: 30},
		{file: "baresip_dynamic_g722.sdp", pref: []Codec{opus}, codec: Codec{"opus", 111, 48000}, remote: "192.0.2.10:10000", dir: "sendrecv", ptime: 30},
		{file: "hold_sendonly.sdp", codec: Codec{"PCMU", 0, 8000}, dtmf: 101, remote: "54.172.60.1:16970", dir: "recvonly", ptime: 20},
		{file: "hold_zero_addr.sdp", codec: Codec{"PCMU", 0, 8000}, remote: "0.0.0.0:24580", dir: "recvonly"},
		{file: "ipv6.sdp", local: local6, codec: Codec{"PCMU", 0, 8000}, dtmf: 102, remote: "[2001:db8::10]:5004", dir: "inactive"},
		{file: "rejected_second_stream.sdp", codec: Codec{"PCMU", 0, 8000}, dtmf: 101, remote: "192.0.2.44:30000", dir: "sendrecv"},
		{file: "webrtc_then_avp.sdp", codec: Codec{"PCMA", 8, 8000}, remote: "192.0.2.60:32002", dir: "sendonly"},
		{file: "ipv6.sdp", status: 488, wantErr: ErrAddress, warning: "301 switchboard"},
		{file: "srtp.sdp", status: 488, wantErr: ErrSRTPNotSupported, warning: `302 switchboard "Incompatible transport protocol: SRTP not supported`},
		{file: "no_common_codec.sdp", status: 488, wantErr: ErrNoCommonCodec, warning: `305 switchboard "Incompatible media format: no common codec in [G729/8000 GSM/8000 telephone-event/8000]"`},
		{file: "video_only.sdp", status: 488, wantErr: ErrNoAudio, warning: `304 switchboard "Media type not available`},
		{file: "garbage.sdp", status: 400, wantErr: ErrSDPMalformed, warning: "399 switchboard"},
	}
	for _, tt := range tests {
		name := strings.TrimSuffix(tt.file, ".sdp")
		if tt.local.Addr.IsValid() {
			name += "_local6"
		}
		if tt.pref != nil {
			name += "_" + tt.pref[0].Name
		}
		t.Run(name, func(t *testing.T) {
			local := local4
			if tt.local.Addr.IsValid() {
				local = tt.local
			}
			local.Preference = tt.pref
			offer := readOffer(t, tt.file)
			ans, err := Negotiate(offer, local)
			if tt.status != 0 {
				checkRefusal(t, err, tt.status, tt.wantErr, tt.warning)
				return
			}
			if err != nil {
				t.Fatalf("Negotiate: %v", err)
			}
			if ans.Codec != tt.codec {
				t.Errorf("codec = %+v, want %+v", ans.Codec, tt.codec)
			}
			if ans.DTMF != tt.dtmf {
				t.Errorf("DTMF = %d, want %d", ans.DTMF, tt.dtmf)
			}
			if got := ans.RemoteAddr.String(); got != tt.remote {
				t.Errorf("remote = %s, want %s", got, tt.remote)
			}
			if ans.Direction != tt.dir {
				t.Errorf("direction = %s, want %s", ans.Direction, tt.dir)
			}
			if ans.Ptime != tt.ptime {
				t.Errorf("ptime = %d, want %d", ans.Ptime, tt.ptime)
			}
			checkAnswerShape(t, offer, ans, local)
			checkGolden(t, name, ans.SDP)
		})
	}
}

func checkRefusal(t *testing.T, err error, status int, cause error, warning string) {
	t.Helper()
	var se *Error
	if !errors.As(err, &se) {
		t.Fatalf("error = %v, want *Error", err)
	}
	if se.SIPStatus() != status {
		t.Errorf("status = %d, want %d", se.SIPStatus(), status)
	}
	if !errors.Is(err, cause) {
		t.Errorf("error = %v, want it to wrap %v", err, cause)
	}
	if !warningRE.MatchString(se.Warning) || !strings.Contains(se.Warning, warning) {
		t.Errorf("Warning = %s, want RFC 3261 form containing %s", se.Warning, warning)
	}
}

// checkAnswerShape re-parses the answer and checks RFC 3264 §6: one m= line
// per offered one, in order, rejected ones with port 0, and the accepted
// one on our port with our codec, DTMF and direction.
func checkAnswerShape(t *testing.T, offer []byte, ans Answer, local Local) {
	t.Helper()
	var o, a sdp.SessionDescription
	if err := o.Unmarshal(offer); err != nil {
		t.Fatal(err)
	}
	if err := a.Unmarshal(ans.SDP); err != nil {
		t.Fatalf("answer does not parse: %v\n%s", err, ans.SDP)
	}
	if a.ConnectionInformation == nil || a.ConnectionInformation.Address.Address != local.Addr.String() {
		t.Errorf("answer c= = %v, want %s", a.ConnectionInformation, local.Addr)
	}
	if len(a.MediaDescriptions) != len(o.MediaDescriptions) {
		t.Fatalf("answer has %d m= lines, offer %d", len(a.MediaDescriptions), len(o.MediaDescriptions))
	}
	accepted := 0
	for i, md := range a.MediaDescriptions {
		if md.MediaName.Media != o.MediaDescriptions[i].MediaName.Media {
			t.Errorf("m= %d is %s, offer has %s", i, md.MediaName.Media, o.MediaDescriptions[i].MediaName.Media)
		}
		if md.MediaName.Port.Value == 0 {
			continue
		}
		accepted++
		if md.MediaName.Port.Value != int(local.Port) {
			t.Errorf("accepted port = %d, want %d", md.MediaName.Port.Value, local.Port)
		}
		if _, ok := md.Attribute(ans.Direction); !ok {
			t.Errorf("accepted stream lacks a=%s", ans.Direction)
		}
		only := sdp.SessionDescription{MediaDescriptions: []*sdp.MediaDescription{md}}
		codecs := only.GetCodecMap()
		if c := codecs[ans.Codec.PayloadType]; !strings.EqualFold(c.Name, ans.Codec.Name) {
			t.Errorf("rtpmap for %d = %s, want %s", ans.Codec.PayloadType, c.Name, ans.Codec.Name)
		}
		if ans.DTMF != 0 && (codecs[ans.DTMF].Name != "telephone-event" || codecs[ans.DTMF].Fmtp != "0-16") {
			t.Errorf("DTMF %d = %+v, want telephone-event with fmtp 0-16", ans.DTMF, codecs[ans.DTMF])
		}
	}
	if accepted != 1 {
		t.Errorf("answer accepts %d streams, want 1", accepted)
	}
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "sdp", "golden", name+".sdp")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./sip/ -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("answer differs from %s:\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

func TestNegotiateAcceptsBareLF(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "sdp", "twilio.sdp"))
	if err != nil {
		t.Fatal(err)
	}
	lf, err := Negotiate(raw, local4)
	if err != nil {
		t.Fatal(err)
	}
	crlf, err := Negotiate(readOffer(t, "twilio.sdp"), local4)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(lf.SDP, crlf.SDP) {
		t.Errorf("LF and CRLF offers give different answers:\n%s\n%s", lf.SDP, crlf.SDP)
	}
}

func TestNegotiateRefusesOversizeOffer(t *testing.T) {
	offer := readOffer(t, "twilio.sdp")
	pad := bytes.Repeat([]byte("a=x-pad:0123456789abcdef0123456789abcdef\r\n"), MaxSDPSize/40)
	_, err := Negotiate(append(offer, pad...), local4)
	checkRefusal(t, err, 400, ErrSDPTooLarge, "399 switchboard")
}

func TestNegotiateUsesSessionLevelDirectionAndMediaLevelAddress(t *testing.T) {
	offer := "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\na=inactive\r\n" +
		"m=audio 5000 RTP/AVP 8\r\nc=IN IP4 192.0.2.99\r\n"
	ans, err := Negotiate([]byte(offer), local4)
	if err != nil {
		t.Fatal(err)
	}
	if ans.Direction != "inactive" || ans.RemoteAddr != netip.MustParseAddrPort("192.0.2.99:5000") {
		t.Errorf("direction %s remote %s, want inactive 192.0.2.99:5000", ans.Direction, ans.RemoteAddr)
	}
}

func TestNegotiateRefusesMissingConnectionMulticastAndBroadcast(t *testing.T) {
	noC := "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n"
	_, err := Negotiate([]byte(noC), local4)
	checkRefusal(t, err, 400, ErrSDPMalformed, "no c= line")

	mc := "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 224.2.17.12/127\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n"
	_, err = Negotiate([]byte(mc), local4)
	checkRefusal(t, err, 488, ErrAddress, "330 switchboard")

	bc := "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 255.255.255.255\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n"
	_, err = Negotiate([]byte(bc), local4)
	checkRefusal(t, err, 488, ErrAddress, "broadcast")
}

func TestNegotiateRejectedStreamKeepsAFormat(t *testing.T) {
	offer := "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n" +
		"m=audio 5000/2 RTP/AVP 0\r\nm=video 0 RTP/AVP\r\n"
	ans, err := Negotiate([]byte(offer), local4)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(ans.SDP, []byte("m=video 0 RTP/AVP 0\r\n")) {
		t.Errorf("answer does not reject video with a format:\n%s", ans.SDP)
	}
	if ans.RemoteAddr != netip.MustParseAddrPort("192.0.2.1:5000") {
		t.Errorf("remote = %s, want 192.0.2.1:5000 (first port of a range)", ans.RemoteAddr)
	}
}

func TestNegotiateSanitizesWarning(t *testing.T) {
	offer := "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n" +
		"m=audio 5000 RTP/AVP 96\r\na=rtpmap:96 \"evil\\\"/8000\r\n"
	_, err := Negotiate([]byte(offer), local4)
	checkRefusal(t, err, 488, ErrNoCommonCodec, `?evil??/8000`)
}

func TestNegotiateRejectsMisconfiguredLocal(t *testing.T) {
	_, err := Negotiate(readOffer(t, "twilio.sdp"), Local{Port: 4000})
	var se *Error
	if !errors.As(err, &se) || se.SIPStatus() != 500 || !errors.Is(err, ErrLocalMisconfigured) {
		t.Fatalf("error = %v, want *Error 500 wrapping ErrLocalMisconfigured", err)
	}
}

func FuzzNegotiate(f *testing.F) {
	// Seeds live in testdata/fuzz/FuzzNegotiate, one per offer in testdata/sdp.
	f.Fuzz(func(t *testing.T, offer []byte, v6 bool) {
		local := local4
		if v6 {
			local = local6
		}
		ans, err := Negotiate(offer, local)
		if err != nil {
			var se *Error
			if !errors.As(err, &se) {
				t.Fatalf("error %v is %T, want *Error", err, err)
			}
			if se.Status != 400 && se.Status != 488 {
				t.Fatalf("status %d for %v, want 400 or 488", se.Status, err)
			}
			if !warningRE.MatchString(se.Warning) {
				t.Fatalf("Warning %q is not an RFC 3261 warning-value", se.Warning)
			}
			return
		}
		var a sdp.SessionDescription
		if err := a.Unmarshal(ans.SDP); err != nil {
			t.Fatalf("answer does not parse: %v\n%s", err, ans.SDP)
		}
		var o sdp.SessionDescription
		if err := o.Unmarshal(offer); err != nil {
			t.Fatalf("offer was answered but does not parse: %v", err)
		}
		if len(a.MediaDescriptions) != len(o.MediaDescriptions) {
			t.Fatalf("answer has %d m= lines, offer %d", len(a.MediaDescriptions), len(o.MediaDescriptions))
		}
		for _, md := range a.MediaDescriptions {
			if len(md.MediaName.Formats) == 0 {
				t.Fatalf("answer m= line without a format:\n%s", ans.SDP)
			}
		}
		if !ans.RemoteAddr.IsValid() || ans.RemoteAddr.Port() == 0 {
			t.Fatalf("remote %v is not a usable address", ans.RemoteAddr)
		}
		if _, err := sdp.NewDirection(ans.Direction); err != nil {
			t.Fatalf("direction %q: %v", ans.Direction, err)
		}
	})
}

// An offer with hundreds of m= lines is refused with 488: its answer would
// repeat every one and fit no UDP datagram.
func TestNegotiateBoundsMediaLines(t *testing.T) {
	_, err := Negotiate([]byte(manyStreams(300)), local4)
	checkRefusal(t, err, 488, ErrSDPTooLarge, "300 media lines")
	if _, err := Negotiate([]byte(manyStreams(MaxMediaLines-1)), local4); err != nil {
		t.Errorf("%d media lines: %v", MaxMediaLines, err)
	}
}

// manyStreams is an offer of one audio stream and n-1 video streams.
func manyStreams(n int) string {
	return "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n" +
		strings.Repeat("m=video 5002 RTP/AVP 96\r\na=rtpmap:96 VP8/90000\r\n", n-1)
}
