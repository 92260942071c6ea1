package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

func TestParseEventMarshalRoundTrip(t *testing.T) {
	tests := []struct {
		name    string
		payload []byte
		want    Event
	}{
		{"first update of 0", []byte{0x00, 0x0a, 0x00, 0xa0}, Event{Code: 0, Volume: 10, Duration: 160}},
		{"end of #", []byte{0x0b, 0x8a, 0x05, 0x00}, Event{Code: 11, End: true, Volume: 10, Duration: 1280}},
		{"flash, loudest, longest", []byte{0x10, 0x80, 0xff, 0xff}, Event{Code: 16, End: true, Duration: 0xffff}},
		{"D at quietest level", []byte{0x0f, 0x3f, 0x00, 0x00}, Event{Code: 15, Volume: 63}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseEvent(tt.payload)
			if err != nil {
				t.Fatalf("ParseEvent(% x): %v", tt.payload, err)
			}
			if got != tt.want {
				t.Fatalf("ParseEvent(% x) = %+v, want %+v", tt.payload, got, tt.want)
			}
			if b := got.Marshal(); !bytes.Equal(b, tt.payload) {
				t.Fatalf("Marshal() = % x, want % x", b, tt.payload)
			}
		})
	}
}

func TestParseEventUsesFirstEventAndIgnoresReservedBit(t *testing.T) {
	// R bit set, and a second (redundant) event stacked behind the first.
	payload := []byte{0x05, 0xca, 0x01, 0x40, 0x09, 0x0a, 0x00, 0xa0}
	got, err := ParseEvent(payload)
	if err != nil {
		t.Fatal(err)
	}
	want := Event{Code: 5, End: true, Volume: 10, Duration: 320}
	if got != want {
		t.Fatalf("ParseEvent = %+v, want %+v", got, want)
	}
}

func TestParseEventRejectsShortPayloads(t *testing.T) {
	for n := range 4 {
		_, err := ParseEvent(make([]byte, n))
		if !errors.Is(err, ErrShortPayload) {
			t.Errorf("ParseEvent(%d bytes) error = %v, want ErrShortPayload", n, err)
		}
	}
}

func TestParseEventRejectsNonDTMFCodes(t *testing.T) {
	for _, code := range []uint8{17, 32, 255} {
		_, err := ParseEvent([]byte{code, 0x0a, 0, 160})
		var unknown *UnknownEventError
		if !errors.As(err, &unknown) || unknown.Code != code {
			t.Errorf("ParseEvent(code %d) error = %v, want UnknownEventError{%d}", code, err, code)
		}
	}
}

func TestMarshalKeepsVolumeToSixBits(t *testing.T) {
	b := Event{Code: 1, Volume: 0xff}.Marshal()
	if b[1] != 0x3f {
		t.Fatalf("second byte = %#x, want 0x3f (E and R clear)", b[1])
	}
}

func TestEveryEventCodeMapsToItsKey(t *testing.T) {
	keys := "0123456789*#ABCD"
	for code := range 256 {
		got, ok := Event{Code: uint8(code)}.Digit()
		if code < len(keys) {
			if !ok || got != rune(keys[code]) {
				t.Errorf("code %d: Digit() = %q, %v; want %q", code, got, ok, keys[code])
			}
			continue
		}
		if ok {
			t.Errorf("code %d: Digit() = %q, want no digit", code, got)
		}
	}
}

// packet is one telephone-event RTP packet as the detector sees it.
type packet struct {
	ts      uint32
	payload []byte
}

// press builds the packets of one key press at ts: updates every 160
// samples, then ends copies of the end packet.
func press(ts uint32, digit rune, updates, ends int) []packet {
	code, _ := eventCode(digit)
	var ps []packet
	for i := range updates {
		ps = append(ps, packet{ts, Event{Code: code, Volume: 10, Duration: uint16(160 * (i + 1))}.Marshal()})
	}
	for range ends {
		d := uint16(160 * (updates + 1))
		ps = append(ps, packet{ts, Event{Code: code, End: true, Volume: 10, Duration: d}.Marshal()})
	}
	return ps
}

func concat(groups ...[]packet) []packet { return slices.Concat(groups...) }

// detect feeds packets to a fresh Detector and returns the digits Packet
// reported and the digit Flush reports afterwards.
func detect(t *testing.T, packets []packet) (reported, flushed string) {
	t.Helper()
	var d Detector
	var sb strings.Builder
	for i, p := range packets {
		digit, ok, err := d.Packet(p.ts, p.payload)
		if err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		if ok {
			sb.WriteRune(digit)
		}
	}
	if digit, ok := d.Flush(); ok {
		flushed = string(digit)
	}
	return sb.String(), flushed
}

func TestDetectorReportsEachPressOnce(t *testing.T) {
	const wrap uint32 = 0xffffff00
	const afterWrap uint32 = 0x540 // 0xffffff00 + 1600, wrapped
	p1, p2 := press(1000, '1', 8, 0), press(2000, '2', 8, 3)
	tests := []struct {
		name        string
		packets     []packet
		want        string
		wantFlushed string
	}{
		{"press of 0: 8 updates and 3 end packets", press(1000, '0', 8, 3), "0", ""},
		{"same digit pressed twice", concat(press(1000, '5', 8, 3), press(2600, '5', 8, 3)), "55", ""},
		{"every key in turn", concat(press(100, '1', 3, 3), press(900, '*', 3, 3), press(1700, '#', 3, 3),
			press(2500, 'A', 3, 3), press(3300, 'D', 3, 3)), "1*#AD", ""},
		{"end packets lost: the next press reports it", concat(p1, p2), "12", ""},
		{"end packets of the last press lost", press(1000, '7', 8, 0), "", "7"},
		{"only one end packet arrives", press(1000, '8', 8, 1), "8", ""},
		{"only end packets arrive", press(1000, '9', 0, 3), "9", ""},
		{"next press after lost ends is a lone end packet", concat(p1, press(2000, '2', 0, 3)), "12", ""},
		{"every packet duplicated", dup(press(1000, '3', 8, 3)), "3", ""},
		{"end packet overtakes the updates", reverse(press(1000, '4', 8, 3)), "4", ""},
		{"late end packet of the previous press", concat(press(1000, 'B', 8, 3), p2[:2],
			press(1000, 'B', 0, 1), p2[2:]), "B2", ""},
		{"late end packet after its press was reported by the next", concat(p1, p2[:1],
			press(1000, '1', 0, 1), p2[1:]), "12", ""},
		{"timestamp wraps between presses", concat(press(wrap, '6', 8, 3), press(afterWrap, '6', 8, 3),
			press(wrap, '6', 0, 1)), "66", ""},
		{"timestamp wraps within lost ends", concat(press(wrap, 'C', 8, 0), press(afterWrap, '0', 8, 3)), "C0", ""},
		{"flash is not a digit", concat(press(1000, '1', 2, 3), flash(2000), press(3000, '2', 2, 3)), "12", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, flushed := detect(t, tt.packets)
			if got != tt.want || flushed != tt.wantFlushed {
				t.Fatalf("reported %q, flushed %q; want %q, %q", got, flushed, tt.want, tt.wantFlushed)
			}
		})
	}
}

func flash(ts uint32) []packet {
	return []packet{
		{ts, Event{Code: EventFlash, Duration: 160}.Marshal()},
		{ts, Event{Code: EventFlash, End: true, Duration: 320}.Marshal()},
	}
}

func dup(ps []packet) []packet {
	var out []packet
	for _, p := range ps {
		out = append(out, p, p)
	}
	return out
}

func reverse(ps []packet) []packet {
	out := slices.Clone(ps)
	slices.Reverse(out)
	return out
}

func TestDetectorReturnsMalformedPacketsWithoutLosingThePress(t *testing.T) {
	var d Detector
	ps := press(500, '5', 2, 3)
	if _, _, err := d.Packet(500, ps[0].payload); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := d.Packet(600, []byte{0x05}); !errors.Is(err, ErrShortPayload) || ok {
		t.Fatalf("short payload: ok=%v err=%v, want ErrShortPayload", ok, err)
	}
	var unknown *UnknownEventError
	if _, ok, err := d.Packet(600, []byte{40, 0x80, 0, 160}); !errors.As(err, &unknown) || ok {
		t.Fatalf("event 40: ok=%v err=%v, want UnknownEventError", ok, err)
	}
	digit, ok, err := d.Packet(500, ps[2].payload)
	if err != nil || !ok || digit != '5' {
		t.Fatalf("end packet after malformed ones: %q, %v, %v; want '5'", digit, ok, err)
	}
}

func TestEncodeDigitFollowsRFC4733(t *testing.T) {
	events, err := EncodeDigit('#', 1280, 160)
	if err != nil {
		t.Fatal(err)
	}
	var want []Event
	for d := uint16(160); d < 1280; d += 160 {
		want = append(want, Event{Code: 11, Volume: 10, Duration: d})
	}
	end := Event{Code: 11, End: true, Volume: 10, Duration: 1280}
	want = append(want, end, end, end)
	if !slices.Equal(events, want) {
		t.Fatalf("EncodeDigit('#', 1280, 160) =\n%+v\nwant\n%+v", events, want)
	}

	short, err := EncodeDigit('a', 100, 160)
	if err != nil {
		t.Fatal(err)
	}
	end = Event{Code: 12, End: true, Volume: 10, Duration: 100}
	if !slices.Equal(short, []Event{end, end, end}) {
		t.Fatalf("press shorter than a packet = %+v, want three end packets", short)
	}
}

func TestEncodeDigitRejectsBadInput(t *testing.T) {
	if _, err := EncodeDigit('x', 800, 160); !errors.Is(err, ErrNotDigit) {
		t.Errorf("EncodeDigit('x') error = %v, want ErrNotDigit", err)
	}
	if _, err := EncodeDigit('1', 0, 160); err == nil {
		t.Error("EncodeDigit with zero duration: no error")
	}
	if _, err := EncodeDigit('1', 800, 0); err == nil {
		t.Error("EncodeDigit with zero packet interval: no error")
	}
}

func TestEncodedDigitsReadBackByDetector(t *testing.T) {
	const keys = "0123456789*#ABCD0"
	ts := uint32(0xffff0000) // the run crosses the wrap
	var packets []packet
	for _, k := range keys {
		events, err := EncodeDigit(k, 800, 160)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range events {
			packets = append(packets, packet{ts, e.Marshal()})
		}
		ts += 8000 / 10 * 5 // a press every half second at 8 kHz
	}
	got, flushed := detect(t, packets)
	if got != keys || flushed != "" {
		t.Fatalf("detector read %q (flushed %q), want %q", got, flushed, keys)
	}
}

// TestDetectorFindsDigitInSIPpCapture reads the RFC 4733 press of '0' that
// SIPp ships (Debian package sip-tester), as recorded on the wire.
func TestDetectorFindsDigitInSIPpCapture(t *testing.T) {
	path := sippCapture(t)
	packets := readRTPCapture(t, path)
	if len(packets) == 0 {
		t.Fatalf("%s: no RTP packets found", path)
	}
	var d Detector
	var got []string
	for i, p := range packets {
		digit, ok, err := d.Packet(p.ts, p.payload)
		if err != nil {
			t.Fatalf("%s packet %d: %v", path, i, err)
		}
		if ok {
			e, _ := ParseEvent(p.payload)
			if !e.End {
				t.Errorf("digit reported at packet %d, which is not an end packet", i)
			}
			got = append(got, string(digit))
		}
	}
	if strings.Join(got, "") != "0" {
		t.Fatalf("%s: detector found %q, want \"0\"", path, got)
	}
}

// sippCapture returns the path of dtmf_2833_0.pcap: $SWITCHBOARD_DTMF_PCAP,
// or the copy installed by the sip-tester package.
func sippCapture(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("SWITCHBOARD_DTMF_PCAP"); p != "" {
		return p
	}
	out, _ := exec.Command("dpkg-query", "-L", "sip-tester").Output()
	for line := range strings.Lines(string(out)) {
		if p := strings.TrimSpace(line); strings.HasSuffix(p, "/dtmf_2833_0.pcap") {
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	msg := "dtmf_2833_0.pcap not found: install the Debian package sip-tester or set SWITCHBOARD_DTMF_PCAP"
	if os.Getenv("SWITCHBOARD_NO_SKIP") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// readRTPCapture returns the RTP timestamp and payload of every IPv4/UDP/RTP
// packet with a dynamic payload type in a classic pcap file. It knows just
// enough of the format to read test fixtures.
func readRTPCapture(t *testing.T, path string) []packet {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) < 24 {
		t.Fatalf("%s: too short for a pcap header", path)
	}
	var order binary.ByteOrder
	switch binary.LittleEndian.Uint32(data) {
	case 0xa1b2c3d4, 0xa1b23c4d:
		order = binary.LittleEndian
	case 0xd4c3b2a1, 0x4d3cb2a1:
		order = binary.BigEndian
	default:
		t.Fatalf("%s: not a pcap file", path)
	}
	linkType := order.Uint32(data[20:])
	var packets []packet
	for rest := data[24:]; len(rest) >= 16; {
		n := int(order.Uint32(rest[8:]))
		if len(rest) < 16+n {
			t.Fatalf("%s: truncated record", path)
		}
		frame := rest[16 : 16+n]
		rest = rest[16+n:]
		if p, ok := rtpFromFrame(linkType, frame); ok {
			packets = append(packets, p)
		}
	}
	return packets
}

func rtpFromFrame(linkType uint32, frame []byte) (packet, bool) {
	var ip []byte
	switch linkType {
	case 1: // Ethernet
		if len(frame) < 14 || binary.BigEndian.Uint16(frame[12:]) != 0x0800 {
			return packet{}, false
		}
		ip = frame[14:]
	case 113: // Linux cooked capture
		if len(frame) < 16 || binary.BigEndian.Uint16(frame[14:]) != 0x0800 {
			return packet{}, false
		}
		ip = frame[16:]
	case 101: // raw IP
		ip = frame
	default:
		return packet{}, false
	}
	if len(ip) < 20 || ip[0]>>4 != 4 || ip[9] != 17 {
		return packet{}, false
	}
	ihl := int(ip[0]&0x0f) * 4
	if len(ip) < ihl+8+12 {
		return packet{}, false
	}
	rtp := ip[ihl+8:]
	if rtp[0]>>6 != 2 || rtp[1]&0x7f < 96 {
		return packet{}, false
	}
	hdr := 12 + 4*int(rtp[0]&0x0f)
	if rtp[0]&0x10 != 0 && len(rtp) >= hdr+4 {
		hdr += 4 + 4*int(binary.BigEndian.Uint16(rtp[hdr+2:]))
	}
	end := len(rtp)
	if rtp[0]&0x20 != 0 && end > hdr {
		end -= int(rtp[end-1])
	}
	if hdr > end {
		return packet{}, false
	}
	return packet{ts: binary.BigEndian.Uint32(rtp[4:]), payload: rtp[hdr:end]}, true
}

// FuzzDTMF feeds the Detector arbitrary packet sequences. Each packet in
// data is a signed 16-bit timestamp step from the previous packet, a length
// byte (taken modulo 9) and that many payload bytes; start is the first
// timestamp, so sequences cross the 2^32 wrap. Steps are small enough that
// no sequence laps the timestamp space, so a timestamp reported twice is a
// bug, not a new press.
func FuzzDTMF(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte, start uint32) {
		var d Detector
		reported := map[uint32]bool{}
		ts := start
		for n := 0; len(data) >= 3 && n < 4096; n++ {
			ts += uint32(int32(int16(binary.BigEndian.Uint16(data))))
			size := min(int(data[2])%9, len(data)-3)
			payload := data[3 : 3+size]
			data = data[3+size:]

			before := d
			digit, ok, err := d.Packet(ts, payload)
			if err != nil {
				if ok || d != before {
					t.Fatalf("malformed payload % x changed the detector or reported %q", payload, digit)
				}
				continue
			}
			if ok {
				owner := fuzzOwner(before, d)
				checkReport(t, reported, owner, digit)
			}
		}
		if digit, ok := d.Flush(); ok {
			checkReport(t, reported, d, digit)
		}
	})
}

// fuzzOwner names the event a digit reported by Packet belongs to: the
// previous event if the packet started a new one while the previous was an
// unreported digit, else the current one.
func fuzzOwner(before, after Detector) Detector {
	_, digit := Event{Code: before.code}.Digit()
	if before.active && !before.reported && digit && before.ts != after.ts {
		return before
	}
	return after
}

func checkReport(t *testing.T, reported map[uint32]bool, owner Detector, digit rune) {
	t.Helper()
	if reported[owner.ts] {
		t.Fatalf("timestamp %d reported twice (second time %q)", owner.ts, digit)
	}
	reported[owner.ts] = true
	if want, ok := (Event{Code: owner.code}).Digit(); !ok || want != digit {
		t.Fatalf("timestamp %d reported %q, its event is code %d", owner.ts, digit, owner.code)
	}
}
