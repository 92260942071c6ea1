//go:build cgo

package opus

import (
	"strconv"
	"strings"
)

// Fmtp is the a=fmtp parameters to send a peer with our Opus payload
// type: ask it for in-band FEC, which our receiver decodes, and for no
// more than wideband (maxplaybackrate=16000), which is all the recogniser
// and a G.722 leg use and costs less to decode than fullband
// (BenchmarkOpusDecode); and say that we send no more than wideband.
const Fmtp = "useinbandfec=1;maxplaybackrate=16000;sprop-maxcapturerate=16000"

// WithFmtp returns c adjusted to what a peer's a=fmtp line for Opus asks
// of the stream we send it (RFC 7587 §6.1), e.g. a browser's
// "minptime=10;useinbandfec=1":
//
//   - useinbandfec=0 turns FEC off: a decoder that will not read it makes
//     it wasted bits; useinbandfec=1 or no say leaves c's choice.
//   - usedtx=1 turns DTX on, as the peer prefers; usedtx=0 turns it off.
//   - maxaveragebitrate caps the bitrate (6000 to 510000).
//
// stereo and sprop-stereo do not matter to a mono sender, and an unknown
// parameter or a value out of range is ignored, as the RFC asks.
func (c EncoderConfig) WithFmtp(fmtp string) EncoderConfig {
	for p := range strings.SplitSeq(fmtp, ";") {
		key, value, _ := strings.Cut(strings.TrimSpace(p), "=")
		key, value = strings.ToLower(strings.TrimSpace(key)), strings.TrimSpace(value)
		switch key {
		case "useinbandfec":
			if value == "0" {
				c.FEC = false
			}
		case "usedtx":
			if value == "0" || value == "1" {
				c.DTX = value == "1"
			}
		case "maxaveragebitrate":
			n, err := strconv.Atoi(value)
			if err != nil || n < 6000 || n > 510000 {
				continue
			}
			if c.Bitrate == 0 || n < c.Bitrate {
				c.Bitrate = n
			}
		}
	}
	return c
}
