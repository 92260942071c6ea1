package media

import (
	"context"
	"encoding/binary"
	"errors"
	"testing"
	"time"
)

// l16 is linear 16-bit PCM at 16 kHz (RFC 3551 L16, one channel): a
// wideband codec for the tests, stateless, so the session shares it
// between directions.
type l16 struct{}

func (l16) Name() string       { return "L16" }
func (l16) PayloadType() uint8 { return 96 }
func (l16) ClockRate() uint32  { return 16000 }
func (l16) SampleRate() int    { return 16000 }
func (l16) Encode(dst []byte, pcm []int16) []byte {
	for _, s := range pcm {
		dst = binary.BigEndian.AppendUint16(dst, uint16(s))
	}
	return dst
}
func (l16) Decode(dst []int16, payload []byte) []int16 {
	for i := 0; i+1 < len(payload); i += 2 {
		dst = append(dst, int16(binary.BigEndian.Uint16(payload[i:])))
	}
	return dst
}

// pair starts two sessions talking to each other with the same codec.
func pair(t *testing.T, p *Ports, c func() Codec) (*Session, *Session) {
	t.Helper()
	x, y := openSession(t, p), openSession(t, p)
	for _, s := range []struct{ s, peer *Session }{{x, y}, {y, x}} {
		cfg := SessionConfig{Codec: c(), DTMF: 101, Remote: addrOf(s.peer)}
		if err := s.s.Start(t.Context(), cfg); err != nil {
			t.Fatal(err)
		}
	}
	return x, y
}

// hears waits for a frame louder than silence at s.
func hears(t *testing.T, s *Session, what string) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case f := <-s.Audio():
			if sessRMS(f.PCM) > 2000 {
				return
			}
		case <-deadline:
			t.Fatalf("%s: nothing heard within 5s", what)
		}
	}
}

// TestBridgeRelaysAudioAndDigitsBothWays: caller (PCMU, 8 kHz) talks to a,
// agent (L16, 16 kHz) to b, and Bridge(a, b) joins them.
func TestBridgeRelaysAudioAndDigitsBothWays(t *testing.T) {
	p := testPorts(t)
	caller, a := pair(t, p, func() Codec { return sessPCMU(t) })
	b, agent := pair(t, p, func() Codec { return l16{} })

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- Bridge(ctx, a, b, testLog(t)) }()

	go caller.Play(ctx, sessTone(8000, 2*time.Second), 8000)
	hears(t, agent, "caller to agent")
	go agent.Play(ctx, sessTone(16000, 2*time.Second), 16000)
	hears(t, caller, "agent to caller")

	if err := caller.SendDigit('5'); err != nil {
		t.Fatal(err)
	}
	if d := nextDigit(t, agent); d != '5' {
		t.Fatalf("agent got %q, want '5'", d)
	}
	if err := agent.SendDigit('#'); err != nil {
		t.Fatal(err)
	}
	if d := nextDigit(t, caller); d != '#' {
		t.Fatalf("caller got %q, want '#'", d)
	}

	a.Close() // the caller's leg ends
	select {
	case err := <-done:
		var ended *EndedError
		if !errors.As(err, &ended) || ended.Port != Port(a) || !errors.Is(err, ErrClosed) {
			t.Fatalf("Bridge = %v, want EndedError for a, ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Bridge still running after a closed")
	}
}

func TestBridgeEndsWithItsContext(t *testing.T) {
	p := testPorts(t)
	_, a := pair(t, p, func() Codec { return sessPCMU(t) })
	b, _ := pair(t, p, func() Codec { return sessPCMU(t) })
	ctx, cancel := context.WithCancelCause(t.Context())
	stop := errors.New("transfer done")
	cancel(stop)
	if err := Bridge(ctx, a, b, testLog(t)); !errors.Is(err, stop) {
		t.Fatalf("Bridge = %v, want the context's cause", err)
	}
	if a.Err() != nil || b.Err() != nil {
		t.Fatal("ending the bridge ended a session")
	}
}
