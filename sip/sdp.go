package sip

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"
)

// MaxSDPSize bounds an offer's body; larger offers are refused with 400.
const MaxSDPSize = 16 << 10

// MaxMediaLines bounds an offer's m= lines: a call has one audio stream, a
// browser's offer a few more (video, data) that we reject.
const MaxMediaLines = 16

// Codec is an audio codec the gateway speaks.
type Codec struct {
	Name        string // encoding name as in rtpmap, e.g. "PCMU"
	PayloadType uint8  // RTP payload type; for dynamic codecs, the one the offer chose
	ClockRate   uint32 // RTP clock rate; G.722 advertises 8000 (RFC 3551 §4.5.2)
}

// DefaultPreference is the codec order used when Local.Preference is empty:
// wideband first, then the two G.711 laws.
var DefaultPreference = []Codec{
	{Name: "G722", PayloadType: 9, ClockRate: 8000},
	{Name: "PCMU", PayloadType: 0, ClockRate: 8000},
	{Name: "PCMA", PayloadType: 8, ClockRate: 8000},
}

// Local describes our side of the media session.
type Local struct {
	Addr           netip.Addr // where we receive RTP; goes into o= and c=
	Port           uint16     // RTP port of our audio stream
	SessionID      uint64     // o= sess-id, stable for the dialog
	SessionVersion uint64     // o= sess-version; the dialog increments it on each changed answer (RFC 3264 §8)
	Preference     []Codec    // first is best; DefaultPreference if empty
}

// Answer is the outcome of negotiating an offer: our SDP and the media
// parameters the gateway uses.
type Answer struct {
	SDP        []byte         // our answer
	Codec      Codec          // chosen audio codec, with the offer's payload type
	DTMF       uint8          // payload type of telephone-event, 0 if not offered
	RemoteAddr netip.AddrPort // where to send RTP (c= and m= port)
	Direction  string         // sendrecv, sendonly, recvonly or inactive, as seen from us
	Ptime      int            // a=ptime echoed from the offer in ms, 0 if none
}

// staticAudio are the RFC 3551 static audio payload types an offer may use
// without an rtpmap.
var staticAudio = map[uint8]sdp.Codec{
	0:  {Name: "PCMU", ClockRate: 8000},
	3:  {Name: "GSM", ClockRate: 8000},
	4:  {Name: "G723", ClockRate: 8000},
	8:  {Name: "PCMA", ClockRate: 8000},
	9:  {Name: "G722", ClockRate: 8000},
	18: {Name: "G729", ClockRate: 8000},
}

// Negotiate answers an SDP offer from an inbound INVITE or re-INVITE. It
// accepts the first usable RTP/AVP audio stream with the best codec of
// local.Preference that the offer lists, and rejects every other stream with
// port 0, keeping the offer's order (RFC 3264 §6). Every error is an *Error
// carrying the SIP status and Warning to answer with.
func Negotiate(offer []byte, local Local) (Answer, error) {
	if err := local.validate(); err != nil {
		return Answer{}, err
	}
	if len(offer) > MaxSDPSize {
		return Answer{}, sdpError(400, warnMisc, ErrSDPTooLarge,
			fmt.Sprintf("%d bytes exceeds %d", len(offer), MaxSDPSize))
	}
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(string(offer)); err != nil {
		return Answer{}, sdpError(400, warnMisc, ErrSDPMalformed, err.Error())
	}
	if n := len(sd.MediaDescriptions); n > MaxMediaLines {
		// The answer repeats every m= line (RFC 3264 §6): hundreds of them
		// make a 200 OK no UDP datagram carries, and the caller would hear
		// nothing at all.
		return Answer{}, sdpError(488, warnMisc, ErrSDPTooLarge, fmt.Sprintf("%d media lines, at most %d", n, MaxMediaLines))
	}
	idx, chosen, err := pickAudio(&sd, local)
	if err != nil {
		return Answer{}, err
	}
	return chosen.answer(&sd, idx, local)
}

func (l *Local) validate() error {
	if !l.Addr.IsValid() || l.Addr.IsUnspecified() || l.Port == 0 {
		return &Error{Status: 500, Warning: fmt.Sprintf("%d %s %q", warnMisc, warnAgent, "Miscellaneous warning: local media misconfigured"),
			Err: fmt.Errorf("%w: addr %v port %d", ErrLocalMisconfigured, l.Addr, l.Port)}
	}
	l.Addr = l.Addr.Unmap()
	if len(l.Preference) == 0 {
		l.Preference = DefaultPreference
	}
	return nil
}

// stream is an offered audio stream we can accept.
type stream struct {
	codec     Codec
	rtpmap    sdp.Codec // as offered, for encoding parameters
	dtmf      uint8
	remote    netip.AddrPort
	direction sdp.Direction // the offer's, as seen from the caller
	ptime     int
}

// pickAudio returns the index and parameters of the first acceptable audio
// stream. When none is acceptable it reports why the first active audio
// stream failed, so the Warning names the real problem.
func pickAudio(sd *sdp.SessionDescription, local Local) (int, stream, error) {
	var first error
	for i, md := range sd.MediaDescriptions {
		if md.MediaName.Media != "audio" || md.MediaName.Port.Value == 0 {
			continue
		}
		s, err := acceptAudio(sd, md, local)
		if err == nil {
			return i, s, nil
		}
		if first == nil {
			first = err
		}
	}
	if first != nil {
		return 0, stream{}, first
	}
	return 0, stream{}, sdpError(488, warnMediaNotAvailable, ErrNoAudio, "no active audio stream offered")
}

func acceptAudio(sd *sdp.SessionDescription, md *sdp.MediaDescription, local Local) (stream, error) {
	if err := checkTransport(md.MediaName.Protos); err != nil {
		return stream{}, err
	}
	var s stream
	var err error
	if s.remote, err = remoteAddr(sd, md, local.Addr); err != nil {
		return stream{}, err
	}
	codecs := offeredCodecs(md)
	if s.codec, s.rtpmap, err = chooseCodec(codecs, local.Preference); err != nil {
		return stream{}, err
	}
	s.dtmf = telephoneEvent(codecs, s.codec)
	s.direction = offeredDirection(sd, md)
	if s.remote.Addr().IsUnspecified() {
		// RFC 2543 hold: c=0.0.0.0 means "do not send to me" (RFC 3264 §8.4).
		s.direction = withoutRecv(s.direction)
	}
	s.ptime = offeredPtime(sd, md)
	return s, nil
}

func checkTransport(protos []string) error {
	proto := strings.Join(protos, "/")
	switch {
	case proto == "RTP/AVP":
		return nil
	case slices.Contains(protos, "SAVP") || slices.Contains(protos, "SAVPF"):
		return sdpError(488, warnIncompatibleTransport, ErrSRTPNotSupported, "SRTP not supported ("+proto+")")
	default:
		return sdpError(488, warnIncompatibleTransport, ErrTransport, "transport "+proto+" not supported")
	}
}

// remoteAddr resolves the media-level c=, else the session-level one, and
// the m= port into where we send RTP.
func remoteAddr(sd *sdp.SessionDescription, md *sdp.MediaDescription, ours netip.Addr) (netip.AddrPort, error) {
	ci := md.ConnectionInformation
	if ci == nil {
		ci = sd.ConnectionInformation
	}
	if ci == nil || ci.Address == nil {
		return netip.AddrPort{}, sdpError(400, warnMisc, ErrSDPMalformed, "no c= line for audio stream")
	}
	if ci.NetworkType != "IN" {
		return netip.AddrPort{}, sdpError(488, warnIncompatibleAddress, ErrAddress, "network type "+ci.NetworkType)
	}
	// pion leaves a multicast /ttl or /range suffix on the address.
	host, _, _ := strings.Cut(ci.Address.Address, "/")
	addr, err := netip.ParseAddr(host)
	if err != nil || addr.Zone() != "" {
		return netip.AddrPort{}, sdpError(488, warnIncompatibleAddress, ErrAddress, "not an IP literal: "+ci.Address.Address)
	}
	addr = addr.Unmap()
	if (ci.AddressType == "IP4") != addr.Is4() || (ci.AddressType != "IP4" && ci.AddressType != "IP6") {
		return netip.AddrPort{}, sdpError(400, warnMisc, ErrSDPMalformed, "address type "+ci.AddressType+" does not match "+addr.String())
	}
	if addr.IsMulticast() {
		return netip.AddrPort{}, sdpError(488, warnMulticast, ErrAddress, "multicast "+addr.String())
	}
	// Sending a call's audio to the broadcast address would spray it over
	// the gateway's LAN, like multicast.
	if addr == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return netip.AddrPort{}, sdpError(488, warnIncompatibleAddress, ErrAddress, "broadcast "+addr.String())
	}
	if addr.Is4() != ours.Is4() {
		return netip.AddrPort{}, sdpError(488, warnIncompatibleAddress, ErrAddress, "address family of "+addr.String()+" differs from ours")
	}
	return netip.AddrPortFrom(addr, uint16(md.MediaName.Port.Value)), nil
}

// offeredCodecs lists the stream's formats in offer order, named from the
// stream's own rtpmap lines (pion parses them) or the RFC 3551 static table.
func offeredCodecs(md *sdp.MediaDescription) []sdp.Codec {
	only := sdp.SessionDescription{MediaDescriptions: []*sdp.MediaDescription{md}}
	mapped := only.GetCodecMap()
	var out []sdp.Codec
	for _, f := range md.MediaName.Formats {
		pt, err := strconv.ParseUint(f, 10, 7)
		if err != nil {
			continue
		}
		c, ok := mapped[uint8(pt)]
		if !ok || c.Name == "" {
			if c, ok = staticAudio[uint8(pt)]; !ok {
				continue
			}
		}
		c.PayloadType = uint8(pt)
		out = append(out, c)
	}
	return out
}

// chooseCodec picks our most preferred codec the offer lists, matching name
// case-insensitively and clock rate exactly, and keeps the offer's payload type.
func chooseCodec(offered []sdp.Codec, pref []Codec) (Codec, sdp.Codec, error) {
	for _, want := range pref {
		for _, c := range offered {
			if strings.EqualFold(c.Name, want.Name) && c.ClockRate == want.ClockRate {
				return Codec{Name: want.Name, PayloadType: c.PayloadType, ClockRate: want.ClockRate}, c, nil
			}
		}
	}
	names := make([]string, 0, len(offered))
	for _, c := range offered {
		names = append(names, fmt.Sprintf("%s/%d", c.Name, c.ClockRate))
	}
	return Codec{}, sdp.Codec{}, sdpError(488, warnIncompatibleFormat, ErrNoCommonCodec,
		"no common codec in ["+strings.Join(names, " ")+"]")
}

// telephoneEvent returns the payload type of RFC 4733 events at the chosen
// codec's clock rate, or 0.
func telephoneEvent(offered []sdp.Codec, chosen Codec) uint8 {
	for _, c := range offered {
		if strings.EqualFold(c.Name, "telephone-event") && c.ClockRate == chosen.ClockRate &&
			c.PayloadType != 0 && c.PayloadType != chosen.PayloadType {
			return c.PayloadType
		}
	}
	return 0
}

var directions = []string{"sendrecv", "sendonly", "recvonly", "inactive"}

// offeredDirection reads the media-level direction attribute, else the
// session-level one, else sendrecv (RFC 3264 §5.1).
func offeredDirection(sd *sdp.SessionDescription, md *sdp.MediaDescription) sdp.Direction {
	for _, attrs := range [][]sdp.Attribute{md.Attributes, sd.Attributes} {
		for _, a := range attrs {
			if slices.Contains(directions, a.Key) {
				d, _ := sdp.NewDirection(a.Key)
				return d
			}
		}
	}
	return sdp.DirectionSendRecv
}

// withoutRecv removes the caller's receiving half.
func withoutRecv(d sdp.Direction) sdp.Direction {
	switch d {
	case sdp.DirectionSendRecv:
		return sdp.DirectionSendOnly
	case sdp.DirectionRecvOnly:
		return sdp.DirectionInactive
	}
	return d
}

// mirror turns the caller's direction into ours (RFC 3264 §6.1).
func mirror(d sdp.Direction) sdp.Direction {
	switch d {
	case sdp.DirectionSendOnly:
		return sdp.DirectionRecvOnly
	case sdp.DirectionRecvOnly:
		return sdp.DirectionSendOnly
	}
	return d
}

func offeredPtime(sd *sdp.SessionDescription, md *sdp.MediaDescription) int {
	v, ok := md.Attribute("ptime")
	if !ok {
		v, ok = sd.Attribute("ptime")
	}
	if !ok {
		return 0
	}
	ms, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || ms < 1 || ms > 1000 {
		return 0
	}
	return ms
}

// answer builds our SDP: the accepted audio stream at index idx, every other
// offered stream rejected with port 0.
func (s stream) answer(offer *sdp.SessionDescription, idx int, local Local) (Answer, error) {
	dir := mirror(s.direction)
	ans := sessionHeader(local)
	for i, md := range offer.MediaDescriptions {
		if i == idx {
			ans.MediaDescriptions = append(ans.MediaDescriptions, s.media(local.Port, dir))
			continue
		}
		ans.MediaDescriptions = append(ans.MediaDescriptions, rejected(md))
	}
	raw, err := ans.Marshal()
	if err != nil {
		return Answer{}, sdpError(500, warnMisc, err, "marshal answer")
	}
	return Answer{
		SDP: raw, Codec: s.codec, DTMF: s.dtmf, RemoteAddr: s.remote,
		Direction: dir.String(), Ptime: s.ptime,
	}, nil
}

func (s stream) media(port uint16, dir sdp.Direction) *sdp.MediaDescription {
	pt := strconv.Itoa(int(s.codec.PayloadType))
	rtpmap := fmt.Sprintf("%s %s/%d", pt, s.codec.Name, s.codec.ClockRate)
	if _, err := strconv.ParseUint(s.rtpmap.EncodingParameters, 10, 8); err == nil {
		rtpmap += "/" + s.rtpmap.EncodingParameters
	}
	md := &sdp.MediaDescription{
		MediaName: sdp.MediaName{
			Media: "audio", Port: sdp.RangedPort{Value: int(port)},
			Protos: []string{"RTP", "AVP"}, Formats: []string{pt},
		},
	}
	md.WithValueAttribute("rtpmap", rtpmap)
	if s.dtmf != 0 {
		te := strconv.Itoa(int(s.dtmf))
		md.MediaName.Formats = append(md.MediaName.Formats, te)
		md.WithValueAttribute("rtpmap", fmt.Sprintf("%s telephone-event/%d", te, s.codec.ClockRate))
		md.WithValueAttribute("fmtp", te+" 0-16")
	}
	if s.ptime != 0 {
		md.WithValueAttribute("ptime", strconv.Itoa(s.ptime))
	}
	return md.WithPropertyAttribute(dir.String())
}

// rejected answers an offered stream with port 0, keeping its media, proto
// and first format as RFC 3264 §6 requires.
func rejected(md *sdp.MediaDescription) *sdp.MediaDescription {
	formats := md.MediaName.Formats
	switch {
	case len(formats) == 0:
		formats = []string{"0"} // an m= line needs a format even when rejected
	case len(formats) > 1:
		formats = formats[:1]
	}
	return &sdp.MediaDescription{MediaName: sdp.MediaName{
		Media: md.MediaName.Media, Port: sdp.RangedPort{Value: 0},
		Protos: slices.Clone(md.MediaName.Protos), Formats: slices.Clone(formats),
	}}
}

// sessionHeader is the session part of every SDP we send, offer or answer:
// our origin and connection address, no media yet.
func sessionHeader(local Local) sdp.SessionDescription {
	addrType := "IP4"
	if local.Addr.Is6() {
		addrType = "IP6"
	}
	return sdp.SessionDescription{
		Origin: sdp.Origin{
			Username: "-", SessionID: local.SessionID, SessionVersion: local.SessionVersion,
			NetworkType: "IN", AddressType: addrType, UnicastAddress: local.Addr.String(),
		},
		SessionName: "switchboard",
		ConnectionInformation: &sdp.ConnectionInformation{
			NetworkType: "IN", AddressType: addrType, Address: &sdp.Address{Address: local.Addr.String()},
		},
		TimeDescriptions: []sdp.TimeDescription{{Timing: sdp.Timing{}}},
	}
}
