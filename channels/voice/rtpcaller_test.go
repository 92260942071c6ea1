package voice_test

import (
	"context"
	"math"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pion/rtp"

	"switchboard/media"
	"switchboard/speech"
)

const (
	// speechDBFS is where caller speech and reply audio begin: a 20 ms
	// frame louder than this is sound, anything quieter is line noise or
	// the gateway's idle silence.
	speechDBFS = -45.0
	// lineNoise is the peak of the white noise a caller's line carries
	// (about -70 dBFS), so that the gateway's VAD hears a line, not
	// digital silence, between questions.
	lineNoise = 18
	// frameSamples is 20 ms at G.722's 16 kHz; frameTicks the same in RTP
	// timestamp units, G.722's clock being 8 kHz (RFC 3551 §4.5.2).
	frameSamples = 320
	frameTicks   = 160
	frameTime    = 20 * time.Millisecond
)

// question is what a caller says: 16 kHz PCM in whole 20 ms frames.
type question struct {
	pcm  []int16
	last int // the last frame louder than speechDBFS: the end of speech
}

func (q question) frames() int             { return len(q.pcm) / frameSamples }
func (q question) frame(i int) []int16     { return q.pcm[i*frameSamples : (i+1)*frameSamples] }
func (q question) duration() time.Duration { return time.Duration(q.frames()) * frameTime }

// loadQuestion reads "Where is my order?" from testdata/audio without the
// digital silence around it; its breath and fade stay.
func loadQuestion(tb testing.TB) question {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "audio", "where_order.wav"))
	if err != nil {
		tb.Fatal(err)
	}
	a, err := speech.DecodeWAV(b)
	if err != nil || a.Rate != 16000 {
		tb.Fatalf("where_order.wav: rate %d, %v; want 16 kHz", a.Rate, err)
	}
	all := question{pcm: a.PCM[:len(a.PCM)/frameSamples*frameSamples]}
	first, end, last := -1, 0, -1
	for i := range all.frames() {
		l := media.Level(all.frame(i))
		if l > -85 { // not digital silence
			if first < 0 {
				first = i
			}
			end = i + 1
		}
		if l > speechDBFS {
			last = i
		}
	}
	if last < 0 {
		tb.Fatal("where_order.wav has no speech")
	}
	return question{pcm: all.pcm[first*frameSamples : end*frameSamples], last: last - first}
}

// turnTiming is one question and its answer, as the caller's line saw it.
type turnTiming struct {
	call, n int
	spoke   time.Time // the last speech packet left the caller: end of caller speech
	reply   time.Time // the first packet of the reply arrived (zero: none did)
	// From the gateway's ObserveReply hook, zero if it never came: when
	// its VAD heard the utterance end, and when the reply went to playout.
	heard, queued time.Time
}

// schedule says when a call's questions start: turn n at its first packet
// from the gateway + first + n*period. A turn not answered by 200 ms
// before the next one is given up. The caller's packets leave phase after
// the gateway's: a phone's clock is not in step with the gateway's, and a
// reply waits for the gateway's next 20 ms tick, so where our packets fall
// between its ticks moves the figures by up to 20 ms.
type schedule struct {
	first, period time.Duration
	phase         time.Duration // under 20 ms
	turns         int
}

func (s schedule) at(start time.Time, n int) time.Time {
	return start.Add(s.first + time.Duration(n)*s.period)
}

// rtpCaller is the media end of one call: the phone whose audio port
// sipp's SDP names. Every 20 ms it sends a G.722 packet of line noise,
// with a question in it when one is due, and it watches the gateway's
// audio for the start and end of each reply.
type rtpCaller struct {
	id       int
	conn     *net.UDPConn
	enc, dec media.Codec
	noise    *rand.Rand
	q        question
	hooks    *hookMatcher
}

// newRTPCaller binds a free loopback port (and the next, for the
// gateway's RTCP, which is never read) and returns the caller and port.
func newRTPCaller(tb testing.TB, id int, q question, hooks *hookMatcher) (*rtpCaller, int) {
	tb.Helper()
	port := freeUDPPort(tb)
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
	if err != nil {
		tb.Fatal(err)
	}
	rtcp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port + 1})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close(); rtcp.Close() })
	enc, err := media.NewCodec("G722", 9)
	if err != nil {
		tb.Fatal(err)
	}
	dec, _ := media.NewCodec("G722", 9)
	return &rtpCaller{id: id, conn: conn, enc: enc, dec: dec, q: q, hooks: hooks,
		noise: rand.New(rand.NewPCG(uint64(id), 1))}, port
}

// rxEvent is the gateway's audio becoming sound or silence (or its first
// packet, which says where to send ours).
type rxEvent struct {
	at   time.Time
	loud bool
	from netip.AddrPort
}

// receive decodes every packet from the gateway (G.722 keeps state) and
// reports the changes between sound and silence until ctx ends or the
// socket closes.
func (c *rtpCaller) receive(ctx context.Context, out chan<- rxEvent) {
	buf := make([]byte, 1500)
	var (
		pkt         rtp.Packet
		pcm         []int16
		loud, first = false, true
	)
	for {
		n, from, err := c.conn.ReadFromUDPAddrPort(buf)
		at := time.Now()
		if err != nil {
			return
		}
		if pkt.Unmarshal(buf[:n]) != nil || pkt.PayloadType != 9 {
			continue
		}
		pcm = c.dec.Decode(pcm[:0], pkt.Payload)
		l := media.Level(pcm) > speechDBFS
		if !first && l == loud {
			continue
		}
		first, loud = false, l
		select {
		case out <- rxEvent{at: at, loud: l, from: from}:
		case <-ctx.Done():
			return
		}
	}
}

// phase of a turn, as the caller sees it.
type phase int

const (
	waiting   phase = iota // for the turn's start
	speaking               // before the end of speech
	listening              // for the reply's first sound
	hearing                // the reply, until it goes silent
)

// run sends the call's audio and asks the schedule's questions; it
// returns their timings when the last is over or ctx ends.
func (c *rtpCaller) run(ctx context.Context, s schedule) []*turnTiming {
	events := make(chan rxEvent, 16)
	go c.receive(ctx, events)
	var (
		remote  netip.AddrPort // learnt from the gateway's first packet
		start   time.Time
		next    time.Time // the next packet is due
		pkt     = rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 9, Marker: true, SSRC: rand.Uint32(), SequenceNumber: uint16(rand.Uint32()), Timestamp: rand.Uint32()}}
		pcm     = make([]int16, frameSamples)
		payload []byte
		buf     = make([]byte, 1500)
		said    = -1 // frames of the current question sent; -1: none playing
		ph      = waiting
		cur     *turnTiming
		turns   = make([]*turnTiming, 0, s.turns)
	)
	tick := time.NewTimer(time.Hour)
	defer tick.Stop()
	for len(turns) < s.turns || ph != waiting {
		select {
		case <-ctx.Done():
			return turns
		case ev := <-events:
			switch {
			case !remote.IsValid():
				remote, start, next = ev.from, ev.at, ev.at.Add(s.phase)
				tick.Reset(time.Until(next))
			case ph == listening && ev.loud && ev.at.After(cur.spoke):
				cur.reply, ph = ev.at, hearing
			case ph == hearing && !ev.loud:
				ph = waiting
			}
		case <-tick.C:
			now := time.Now()
			if ph != waiting && !now.Before(s.at(start, cur.n+1).Add(-200*time.Millisecond)) {
				ph = waiting // no reply, or one that would not end: on to the next
			}
			if ph == waiting && len(turns) < s.turns && !now.Before(s.at(start, len(turns))) {
				cur = &turnTiming{call: c.id, n: len(turns)}
				turns = append(turns, cur)
				said, ph = 0, speaking
			}
			for i := range pcm {
				pcm[i] = int16(c.noise.IntN(2*lineNoise+1) - lineNoise)
			}
			if said >= 0 {
				mixInto(pcm, c.q.frame(said))
			}
			payload = c.enc.Encode(payload[:0], pcm)
			pkt.Payload = payload
			n, err := pkt.MarshalTo(buf)
			if err != nil {
				panic(err) // a 160-byte payload always fits
			}
			if _, err := c.conn.WriteToUDPAddrPort(buf[:n], remote); err != nil {
				return turns // the socket closed: the benchmark is over
			}
			sent := time.Now()
			pkt.SequenceNumber++
			pkt.Timestamp += frameTicks
			pkt.Marker = false
			if said >= 0 {
				if said == c.q.last {
					cur.spoke, ph = sent, listening
					c.hooks.expect(c.id, cur)
				}
				if said++; said == c.q.frames() {
					said = -1
				}
			}
			// An absolute schedule, as the gateway's sender keeps: a late
			// wake-up shortens the next wait rather than adding drift.
			next = next.Add(frameTime)
			tick.Reset(time.Until(next))
		}
	}
	return turns
}

// mixInto adds src to dst, saturating.
func mixInto(dst, src []int16) {
	for i := range min(len(dst), len(src)) {
		dst[i] = int16(max(math.MinInt16, min(math.MaxInt16, int32(dst[i])+int32(src[i]))))
	}
}
