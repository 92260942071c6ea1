package engine_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"
	"testing"

	"switchboard/channels/voice/engine"
	"switchboard/media"
)

// sessionLeg is a leg whose media is a real RTP session from a port pool,
// as a SIP line's Dial returns one.
type sessionLeg struct{ *media.Session }

func (l sessionLeg) Hangup(context.Context) error { return l.Close() }

// portPool is a pool of a few RTP port pairs on loopback nobody else holds.
func portPool(t *testing.T, pairs int) *media.Ports {
	t.Helper()
	for range 50 {
		base := 40000 + 2*rand.IntN(5000)
		free := true
		for p := base; p < base+2*pairs && free; p++ {
			c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p})
			if err != nil {
				free = false
				continue
			}
			c.Close()
		}
		if free {
			p, err := media.NewPorts(netip.MustParseAddr("127.0.0.1"), base, base+2*pairs-1)
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
	}
	t.Fatal("no free port range")
	return nil
}

var errCallerLeft = errors.New("the caller hung up")

// A caller who hangs up just as the fallback leg's media starts: whichever
// of the call's ends sees the leg first, its session is closed and its
// port pair is back in the pool by the time the call is over. Run many
// times, since which end wins is a race.
func TestCallerLeavingAsTheLegAnswersFreesItsPorts(t *testing.T) {
	const pairs = 4
	ports := portPool(t, pairs)
	r := newRig(t, "bridge")
	for i := range 25 {
		ctx, cancel := context.WithCancelCause(t.Context())
		line := newMemLine(8000)
		line.dial = func(dctx context.Context, _ engine.Transfer) (engine.Leg, error) {
			s, err := ports.Open(nil)
			if err != nil {
				return nil, err
			}
			codec, _ := media.NewCodec("PCMU", 0)
			err = s.Start(dctx, media.SessionConfig{Codec: codec, Remote: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), s.LocalPort())})
			if err != nil {
				s.Close()
				return nil, err
			}
			// The leg's media runs; the caller hangs up now, which ends
			// the call's context as a SIP caller's BYE does.
			line.end(errCallerLeft)
			cancel(errCallerLeft)
			return sessionLeg{s}, nil
		}
		_, done := r.run(ctx, t, line)
		line.dtmf <- '0'
		if err := wait(t, done); err != nil {
			t.Fatalf("call %d: Run = %v", i, err)
		}
		if free := ports.Free(); free != pairs {
			t.Fatalf("call %d: %d of %d port pairs free after the call: the leg's session was left open", i, free, pairs)
		}
		cancel(nil)
	}
}
