package media

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// maxPacket is the largest datagram accepted: bigger ones cannot come
	// from an audio trunk on an Ethernet path and are dropped.
	maxPacket = 1500
	// audioQueue is the capacity of Audio(): 200 ms of 20 ms frames.
	audioQueue = 10
	// dtmfQueue bounds the digits waiting in DTMF() and for SendDigit.
	dtmfQueue = 16
	// defaultRTCPInterval is RFC 3550's minimum report interval (§6.2).
	defaultRTCPInterval = 5 * time.Second
)

// SessionConfig is what signalling negotiated for a session.
type SessionConfig struct {
	// Codec is the negotiated audio codec. The session encodes with it and
	// decodes with a fresh instance from NewCodec, as a stateful codec
	// needs one per direction.
	Codec Codec
	// DTMF is the telephone-event payload type; 0 means none.
	DTMF uint8
	// Remote is the RTP address from SDP. The source of the first valid
	// RTP packet replaces it (symmetric RTP, for callers behind NAT).
	Remote netip.AddrPort
	// MediaTimeout ends the session with ErrMediaTimeout when no RTP
	// arrives for this long; 0 disables it.
	MediaTimeout time.Duration
	// Ptime is the packet duration we send; 0 means 20 ms.
	Ptime time.Duration
}

func (c SessionConfig) withDefaults() (SessionConfig, error) {
	if c.Codec == nil {
		return c, errors.New("media session: no codec")
	}
	if c.Ptime == 0 {
		c.Ptime = 20 * time.Millisecond
	}
	if c.Ptime < 10*time.Millisecond || c.Ptime > 120*time.Millisecond || c.Ptime%(5*time.Millisecond) != 0 {
		return c, fmt.Errorf("media session: ptime %v not a multiple of 5ms in 10-120ms", c.Ptime)
	}
	if c.MediaTimeout < 0 {
		return c, fmt.Errorf("media session: negative media timeout %v", c.MediaTimeout)
	}
	if c.DTMF == c.Codec.PayloadType() && c.DTMF != 0 {
		return c, fmt.Errorf("media session: telephone-event and %s share payload type %d", c.Codec.Name(), c.DTMF)
	}
	c.Remote = unmap(c.Remote)
	return c, nil
}

// packetConn is the part of *net.UDPConn a session uses. Tests put an
// in-memory network behind it so that the time-driven parts run under
// testing/synctest.
type packetConn interface {
	ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error)
	WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error)
	SetReadDeadline(t time.Time) error
	Close() error
}

// Session is the RTP/RTCP media of one call leg. Ports.Open creates it,
// Start runs it, and Close stops its goroutines and frees its ports. Its
// methods are safe for concurrent use.
type Session struct {
	log       *slog.Logger
	rtpConn   packetConn
	rtcpConn  packetConn
	port      uint16
	release   func()
	epoch     time.Time // monotonic origin of lastRx and RTP arrival times
	ssrc      uint32
	cname     string
	rtcpEvery time.Duration
	pace      time.Duration // tick interval; ptime unless a benchmark shortens it

	ctx       context.Context
	cancel    context.CancelCauseFunc
	wg        sync.WaitGroup
	started   atomic.Bool
	unlink    func() bool // stops the Start context from ending the session
	closeOnce sync.Once
	connsOnce sync.Once

	mu     sync.Mutex // guards the fields below
	cfg    SessionConfig
	enc    Codec // encoder, owned by tx
	dec    Codec // decoder, owned by rx
	remote netip.AddrPort
	// latched is set when remote is the observed source of RTP rather
	// than the SDP address.
	latched    bool
	rtcpRemote netip.AddrPort
	gen        atomic.Uint64 // bumped by Update so rx and tx reload cfg

	hold   atomic.Bool
	lastRx atomic.Int64 // time since epoch of the last valid RTP packet

	audio  chan Frame
	dtmf   chan rune
	digits chan rune
	play   playout
	spurt  chan struct{} // Play woke an idle sender: send now, not at the next tick
	ctr    counters
	recvMu sync.Mutex
	recv   recvStats
}

func newSession(log *slog.Logger, rtpConn, rtcpConn packetConn, port uint16, release func()) *Session {
	ctx, cancel := context.WithCancelCause(context.Background())
	s := &Session{
		log:       log,
		rtpConn:   rtpConn,
		rtcpConn:  rtcpConn,
		port:      port,
		release:   release,
		epoch:     time.Now(),
		ssrc:      rand.Uint32(),
		rtcpEvery: defaultRTCPInterval,
		ctx:       ctx,
		cancel:    cancel,
		audio:     make(chan Frame, audioQueue),
		dtmf:      make(chan rune, dtmfQueue),
		digits:    make(chan rune, dtmfQueue),
		spurt:     make(chan struct{}, 1),
	}
	s.cname = fmt.Sprintf("sb-%08x@switchboard", s.ssrc)
	// Whatever ends the session (Close, media timeout, the Start context)
	// closes the sockets, which is what stops the blocked readers.
	context.AfterFunc(ctx, s.closeConns)
	return s
}

// LocalPort is the RTP port to put in SDP; RTCP is on LocalPort()+1.
func (s *Session) LocalPort() uint16 { return s.port }

// Start runs the session until ctx ends, Close is called or the media
// times out: a receiver, a paced sender that keeps sending silence when
// there is nothing to play, and RTCP reports.
func (s *Session) Start(ctx context.Context, cfg SessionConfig) error {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return err
	}
	// s.mu orders Start against Close: goroutines are only added while
	// the session is not ended, so Close's wait covers them all.
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx.Err() != nil {
		return fmt.Errorf("start: %w", context.Cause(s.ctx))
	}
	if !s.started.CompareAndSwap(false, true) {
		return errors.New("media session: already started")
	}
	s.setConfigLocked(cfg)
	s.touch()
	s.unlink = context.AfterFunc(ctx, func() { s.cancel(context.Cause(ctx)) })
	s.wg.Add(3)
	go s.rxLoop()
	go s.rtcpLoop()
	go s.txLoop()
	s.log.Debug("media session started", "codec", cfg.Codec.Name(), "remote", cfg.Remote, "ssrc", s.ssrc)
	return nil
}

// Update applies a re-INVITE: a new remote address forgets the latched
// source, a new codec replaces encoder and decoder (a change of sample
// rate interrupts queued playback).
func (s *Session) Update(cfg SessionConfig) error {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return err
	}
	if !s.started.Load() {
		return ErrNotStarted
	}
	if s.ctx.Err() != nil {
		return fmt.Errorf("update: %w", context.Cause(s.ctx))
	}
	s.mu.Lock()
	oldRate := s.enc.SampleRate()
	s.setConfigLocked(cfg)
	newRate := s.enc.SampleRate()
	s.mu.Unlock()
	if newRate != oldRate {
		s.StopPlayback()
	}
	return nil
}

func (s *Session) setConfigLocked(cfg SessionConfig) {
	old := s.cfg
	s.cfg = cfg
	if old.Codec == nil || !sameCodec(old.Codec, cfg.Codec) {
		s.enc = cfg.Codec
		s.dec = decoderFor(cfg.Codec)
	}
	if old.Codec == nil || cfg.Remote != old.Remote {
		s.remote, s.latched = cfg.Remote, false
		s.rtcpRemote = rtcpAddr(cfg.Remote)
	}
	s.gen.Add(1)
}

// Hold suspends sending and the media timeout (the remote put us on hold
// with a=sendonly or a=inactive); queued playback waits. Hold(false)
// resumes both, the timeout counting afresh. RTCP goes on meanwhile.
func (s *Session) Hold(on bool) {
	s.touch()
	s.hold.Store(on)
}

// Audio delivers the remote's audio, one decoded frame per packet (20 ms
// unless the remote packs differently), in sequence order, each with the
// sample rate of the codec that decoded it, with a silent frame for each
// packet lost. When the reader falls behind, the oldest frames are
// dropped (counted in Stats). Frames are reused: a frame is valid until
// the next receive from the channel; copy it to keep it. The channel is
// closed when the session ends.
func (s *Session) Audio() <-chan Frame { return s.audio }

// SampleRate is the rate of the audio the session sends now (its codec's),
// 0 before Start. Play and WriteFrame take any rate and resample; audio
// made at this rate needs no resampling.
func (s *Session) SampleRate() int { return s.sendRate() }

// DTMF delivers the RFC 4733 digits the remote sends, once per key press.
// It is closed when the session ends.
func (s *Session) DTMF() <-chan rune { return s.dtmf }

// Done is closed when the session ends; Err then says why.
func (s *Session) Done() <-chan struct{} { return s.ctx.Done() }

// Err is nil while the session runs, then ErrMediaTimeout, ErrClosed or
// the cause of the context given to Start.
func (s *Session) Err() error {
	if s.ctx.Err() == nil {
		return nil
	}
	return context.Cause(s.ctx)
}

// RemoteAddr is where RTP goes now: the latched source or the SDP address.
func (s *Session) RemoteAddr() netip.AddrPort {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.remote
}

// Close ends the session, waits for its goroutines and frees its ports.
// It may be called more than once.
func (s *Session) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.cancel(ErrClosed)
		unlink := s.unlink
		s.mu.Unlock()
		s.closeConns()
		s.wg.Wait()
		if unlink != nil {
			unlink()
		}
		s.play.interrupt(ErrClosed)
		if s.release != nil {
			s.release()
		}
		s.log.Debug("media session closed", "err", context.Cause(s.ctx))
	})
	return nil
}

func (s *Session) closeConns() {
	s.connsOnce.Do(func() {
		for _, c := range []packetConn{s.rtpConn, s.rtcpConn} {
			if err := c.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
				s.log.Warn("close media socket", "err", err)
			}
		}
	})
}

// touch restarts the media timeout window.
func (s *Session) touch() { s.lastRx.Store(int64(time.Since(s.epoch))) }

func sameCodec(a, b Codec) bool {
	return a.Name() == b.Name() && a.PayloadType() == b.PayloadType() && a.SampleRate() == b.SampleRate()
}

// decoderFor returns a codec instance of its own for the receive
// direction; a codec not in the registry (a test codec) must be stateless
// and is shared.
func decoderFor(c Codec) Codec {
	if d, err := NewCodec(c.Name(), c.PayloadType()); err == nil && d.SampleRate() == c.SampleRate() {
		return d
	}
	return c
}

func rtcpAddr(rtp netip.AddrPort) netip.AddrPort {
	if !rtp.IsValid() || rtp.Port() == 65535 {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(rtp.Addr(), rtp.Port()+1)
}

func unmap(a netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
}

// SendDigit queues an RFC 4733 key press (100 ms) for the paced sender; it
// goes out on the same SSRC as the audio, which it replaces meanwhile.
func (s *Session) SendDigit(d rune) error {
	if _, ok := eventCode(d); !ok {
		return fmt.Errorf("send digit %q: %w", d, ErrNotDigit)
	}
	if !s.started.Load() {
		return ErrNotStarted
	}
	if err := s.Err(); err != nil {
		return fmt.Errorf("send digit: %w", err)
	}
	s.mu.Lock()
	pt := s.cfg.DTMF
	s.mu.Unlock()
	if pt == 0 {
		return fmt.Errorf("send digit %q: %w", d, ErrNoDTMF)
	}
	select {
	case s.digits <- d:
		return nil
	default:
		return fmt.Errorf("send digit %q: %w", d, ErrDigitQueueFull)
	}
}
