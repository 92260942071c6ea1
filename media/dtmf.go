package media

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// RFC 4733 telephone events (§3.2): 0-9, then *, #, A-D and flash.
const (
	eventStar  = 10
	eventPound = 11
	eventA     = 12
	// EventFlash is the hook-flash event; it is not a digit.
	EventFlash = 16

	eventPayloadLen = 4
	// defaultVolume is the power level EncodeDigit sends, in -dBm0: a
	// common, clearly audible DTMF level.
	defaultVolume = 10
	// endRetransmissions is how often the end packet is sent (§2.5.1.4).
	endRetransmissions = 3
)

// ErrShortPayload is returned, wrapped, for a telephone-event payload of
// fewer than four bytes.
var ErrShortPayload = errors.New("telephone-event payload shorter than 4 bytes")

// ErrNotDigit is returned, wrapped, when EncodeDigit is asked for a rune
// that is no DTMF key.
var ErrNotDigit = errors.New("not a DTMF digit")

// UnknownEventError reports a telephone event this package does not handle:
// anything past flash (16), such as the modem and fax tones of RFC 4734.
type UnknownEventError struct {
	Code uint8
}

func (e *UnknownEventError) Error() string {
	return fmt.Sprintf("telephone-event code %d is not a DTMF event (0-16)", e.Code)
}

// Event is one telephone-event payload (RFC 4733 §2.3).
type Event struct {
	// Code is the event: 0-9, 10 (*), 11 (#), 12-15 (A-D) or 16 (flash).
	Code uint8
	// End marks the final packets of the event.
	End bool
	// Volume is the power level in -dBm0, 0-63; only DTMF carries one.
	Volume uint8
	// Duration is the length of the event so far, in RTP timestamp units.
	Duration uint16
}

// ParseEvent decodes a telephone-event payload. Bytes past the first four
// are ignored: a sender may stack further events behind the first (the
// redundant copies RFC 4733 §2.5.1.5 allows), and the first one is the
// event this packet's timestamp belongs to. The reserved R bit is ignored
// as §2.3 asks.
func ParseEvent(payload []byte) (Event, error) {
	if len(payload) < eventPayloadLen {
		return Event{}, fmt.Errorf("parse telephone-event of %d bytes: %w", len(payload), ErrShortPayload)
	}
	e := Event{
		Code:     payload[0],
		End:      payload[1]&0x80 != 0,
		Volume:   payload[1] & 0x3f,
		Duration: binary.BigEndian.Uint16(payload[2:4]),
	}
	if e.Code > EventFlash {
		return Event{}, &UnknownEventError{Code: e.Code}
	}
	return e, nil
}

// Marshal encodes the event as a 4-byte payload. Volume is cut to its
// 6 bits; the R bit is always zero.
func (e Event) Marshal() []byte {
	b := make([]byte, eventPayloadLen)
	b[0] = e.Code
	b[1] = e.Volume & 0x3f
	if e.End {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:], e.Duration)
	return b
}

// Digit returns the key the event stands for: '0'-'9', '*', '#' or
// 'A'-'D'. It reports false for flash and unknown codes.
func (e Event) Digit() (rune, bool) {
	switch {
	case e.Code <= 9:
		return rune('0' + e.Code), true
	case e.Code == eventStar:
		return '*', true
	case e.Code == eventPound:
		return '#', true
	case e.Code < EventFlash:
		return rune('A' + e.Code - eventA), true
	}
	return 0, false
}

// eventCode is the inverse of Digit; it also accepts 'a'-'d'.
func eventCode(d rune) (uint8, bool) {
	switch {
	case d >= '0' && d <= '9':
		return uint8(d - '0'), true
	case d == '*':
		return eventStar, true
	case d == '#':
		return eventPound, true
	case d >= 'A' && d <= 'D':
		return uint8(d-'A') + eventA, true
	case d >= 'a' && d <= 'd':
		return uint8(d-'a') + eventA, true
	}
	return 0, false
}

// EncodeDigit returns the payloads of one key press lasting durationSamples,
// following RFC 4733 §2.5.1: an update every packetSamples carrying the
// duration so far, then the end packet three times with the full duration.
// All of them belong in packets sharing one RTP timestamp (the start of the
// press), the first with the marker bit set; each gets its own sequence
// number. Those RTP details are the sender's job.
func EncodeDigit(d rune, durationSamples uint16, packetSamples uint16) ([]Event, error) {
	code, ok := eventCode(d)
	if !ok {
		return nil, fmt.Errorf("encode %q: %w", d, ErrNotDigit)
	}
	if durationSamples == 0 || packetSamples == 0 {
		return nil, fmt.Errorf("encode %q: duration (%d) and packet interval (%d) must be positive",
			d, durationSamples, packetSamples)
	}
	events := make([]Event, 0, int(durationSamples)/int(packetSamples)+endRetransmissions)
	for sofar := int(packetSamples); sofar < int(durationSamples); sofar += int(packetSamples) {
		events = append(events, Event{Code: code, Volume: defaultVolume, Duration: uint16(sofar)})
	}
	end := Event{Code: code, End: true, Volume: defaultVolume, Duration: durationSamples}
	for range endRetransmissions {
		events = append(events, end)
	}
	return events, nil
}

// Detector turns a stream of telephone-event packets into digits, once per
// key press: the same event is sent in many packets sharing one RTP
// timestamp, and its end packet is sent three times (RFC 4733 §2.5.1.4).
// The zero value is ready to use. A Detector is not safe for concurrent
// use; the call's media goroutine owns it.
type Detector struct {
	active   bool   // an event has been seen
	ts       uint32 // RTP timestamp of the current event
	code     uint8  // event code of the current event
	reported bool   // the current event has been reported (or is not a digit)
}

// Packet feeds one telephone-event packet with its RTP timestamp. It reports
// a digit at the first end packet of an event, or, when the end packets were
// all lost, as soon as a packet with a newer timestamp starts the next event.
// It never reports one timestamp twice. Packets older than the current event
// (reordered or duplicated) are ignored; timestamps compare modulo 2^32, so a
// stream wrapping past 0xffffffff keeps working. A payload that does not
// parse is returned as an error and leaves the Detector unchanged.
func (d *Detector) Packet(timestamp uint32, payload []byte) (digit rune, ok bool, err error) {
	e, err := ParseEvent(payload)
	if err != nil {
		return 0, false, err
	}
	switch {
	case !d.active || newer(timestamp, d.ts):
		digit, ok = d.Flush()
		d.active, d.ts, d.code, d.reported = true, timestamp, e.Code, false
		if e.End && !ok {
			// A lone end packet is still a whole press. When the previous
			// press is reported now instead, the retransmitted end packets
			// report this one.
			digit, ok = d.Flush()
		}
		return digit, ok, nil
	case timestamp == d.ts && e.End:
		digit, ok = d.Flush()
		return digit, ok, nil
	}
	return 0, false, nil
}

// Flush reports the current event if it is a digit that has not been
// reported yet, as when its end packets were lost and no further event
// followed. Call it when the stream stops (media timeout, hangup).
func (d *Detector) Flush() (rune, bool) {
	if !d.active || d.reported {
		return 0, false
	}
	d.reported = true
	return Event{Code: d.code}.Digit()
}

// newer reports whether RTP timestamp a comes after b, using serial number
// arithmetic (RFC 1982) so that the comparison survives wrap-around.
func newer(a, b uint32) bool {
	return a != b && int32(a-b) > 0
}
