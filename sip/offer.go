package sip

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"
)

// firstTelephoneEventPT is where dynamic payload types for RFC 4733
// telephone-event start in our offers, as most trunks expect.
const firstTelephoneEventPT = 101

// BuildOffer returns an SDP offer for an outbound leg: one sendrecv
// RTP/AVP audio stream at local.Addr and local.Port listing
// local.Preference (DefaultPreference if empty) in order, then
// telephone-event for each clock rate used, with a=ptime:20.
func BuildOffer(local Local) ([]byte, error) {
	if err := local.validate(); err != nil {
		return nil, err
	}
	sd := sessionHeader(local)
	sd.MediaDescriptions = []*sdp.MediaDescription{offerMedia(local)}
	raw, err := sd.Marshal()
	if err != nil {
		return nil, fmt.Errorf("marshal offer: %w", err)
	}
	return raw, nil
}

func offerMedia(local Local) *sdp.MediaDescription {
	md := &sdp.MediaDescription{MediaName: sdp.MediaName{
		Media: "audio", Port: sdp.RangedPort{Value: int(local.Port)}, Protos: []string{"RTP", "AVP"},
	}}
	used := map[uint8]bool{}
	var rates []uint32
	for _, c := range local.Preference {
		if used[c.PayloadType] {
			continue // a payload type names one codec per stream
		}
		used[c.PayloadType] = true
		md.MediaName.Formats = append(md.MediaName.Formats, strconv.Itoa(int(c.PayloadType)))
		md.WithValueAttribute("rtpmap", fmt.Sprintf("%d %s/%d", c.PayloadType, c.Name, c.ClockRate))
		if !containsRate(rates, c.ClockRate) {
			rates = append(rates, c.ClockRate)
		}
	}
	pt := uint8(firstTelephoneEventPT)
	for _, rate := range rates {
		for used[pt] && pt < 127 {
			pt++
		}
		if used[pt] {
			break // no dynamic payload type left; offer without DTMF at this rate
		}
		used[pt] = true
		te := strconv.Itoa(int(pt))
		md.MediaName.Formats = append(md.MediaName.Formats, te)
		md.WithValueAttribute("rtpmap", fmt.Sprintf("%s telephone-event/%d", te, rate))
		md.WithValueAttribute("fmtp", te+" 0-16")
	}
	md.WithValueAttribute("ptime", "20")
	return md.WithPropertyAttribute(sdp.DirectionSendRecv.String())
}

func containsRate(rates []uint32, r uint32) bool {
	for _, x := range rates {
		if x == r {
			return true
		}
	}
	return false
}

// ParseAnswer reads the remote's answer to our offer (both as sent on the
// wire) into the media parameters to use: the first codec of the answer's
// audio stream that we offered, its telephone-event payload type, where to
// send RTP and our direction. Answer.SDP is our offer. Every error is an
// *Error (400 for a malformed or oversized answer, 488 for an unusable
// one); the caller ends the leg with ACK and BYE.
func ParseAnswer(offer, answer []byte) (Answer, error) {
	if len(answer) > MaxSDPSize {
		return Answer{}, sdpError(400, warnMisc, ErrSDPTooLarge, fmt.Sprintf("%d bytes exceeds %d", len(answer), MaxSDPSize))
	}
	ours, idx, err := parseOurOffer(offer)
	if err != nil {
		return Answer{}, err
	}
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(string(answer)); err != nil {
		return Answer{}, sdpError(400, warnMisc, ErrSDPMalformed, err.Error())
	}
	if len(sd.MediaDescriptions) <= idx {
		return Answer{}, sdpError(400, warnMisc, ErrSDPMalformed, "answer has fewer m= lines than the offer")
	}
	md := sd.MediaDescriptions[idx]
	if md.MediaName.Media != "audio" || md.MediaName.Port.Value == 0 {
		return Answer{}, sdpError(488, warnMediaNotAvailable, ErrNoAudio, "audio stream rejected in answer")
	}
	if err := checkTransport(md.MediaName.Protos); err != nil {
		return Answer{}, err
	}
	remote, err := remoteAddr(&sd, md, ours.addr)
	if err != nil {
		return Answer{}, err
	}
	answered := offeredCodecs(md)
	codec, err := firstOffered(answered, ours.codecs)
	if err != nil {
		return Answer{}, err
	}
	dir := offeredDirection(&sd, md)
	if remote.Addr().IsUnspecified() {
		dir = withoutRecv(dir)
	}
	return Answer{
		SDP: offer, Codec: codec, DTMF: telephoneEvent(answered, codec), RemoteAddr: remote,
		Direction: mirror(dir).String(), Ptime: offeredPtime(&sd, md),
	}, nil
}

type offered struct {
	addr   netip.Addr
	codecs []sdp.Codec
}

// parseOurOffer finds the audio stream of an offer we made.
func parseOurOffer(offer []byte) (offered, int, error) {
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(string(offer)); err != nil {
		return offered{}, 0, sdpError(500, warnMisc, ErrLocalMisconfigured, "our offer: "+err.Error())
	}
	for i, md := range sd.MediaDescriptions {
		if md.MediaName.Media != "audio" || md.MediaName.Port.Value == 0 {
			continue
		}
		ci := md.ConnectionInformation
		if ci == nil {
			ci = sd.ConnectionInformation
		}
		if ci == nil || ci.Address == nil {
			break
		}
		addr, err := netip.ParseAddr(ci.Address.Address)
		if err != nil {
			break
		}
		return offered{addr: addr.Unmap(), codecs: offeredCodecs(md)}, i, nil
	}
	return offered{}, 0, sdpError(500, warnMisc, ErrLocalMisconfigured, "our offer has no audio stream")
}

// firstOffered returns the answer's first codec that we offered, by name
// and clock rate; telephone-event is never the audio codec.
func firstOffered(answered, ours []sdp.Codec) (Codec, error) {
	for _, c := range answered {
		if strings.EqualFold(c.Name, "telephone-event") {
			continue
		}
		for _, o := range ours {
			if strings.EqualFold(c.Name, o.Name) && c.ClockRate == o.ClockRate {
				return Codec{Name: o.Name, PayloadType: c.PayloadType, ClockRate: c.ClockRate}, nil
			}
		}
	}
	names := make([]string, 0, len(answered))
	for _, c := range answered {
		names = append(names, fmt.Sprintf("%s/%d", c.Name, c.ClockRate))
	}
	return Codec{}, sdpError(488, warnIncompatibleFormat, ErrNoCommonCodec,
		"answer lists no offered codec ["+strings.Join(names, " ")+"]")
}
