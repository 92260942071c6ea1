package gateway

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"

	"switchboard/channels/voice"
	"switchboard/config"
	"switchboard/dialog"
	"switchboard/media"
	_ "switchboard/media/g722" // registers the G.722 codec
	"switchboard/sip"
)

// newVoice builds the phone channel and its SIP server. Listen addresses,
// trunks, the outbound proxy with its credentials, the identity and the
// speech providers take effect at start; greeting, codecs, timeouts and
// handoff targets follow reloads call by call.
func (g *Gateway) newVoice(ctx context.Context, cfg *config.Config) error {
	v := cfg.Channels.Voice
	trunks, err := sipTrunks(v.Trunks)
	if err != nil {
		return err
	}
	outboundPassword, err := cfg.OutboundPassword()
	if err != nil {
		return fmt.Errorf("voice: %w", err)
	}
	// RTP binds every interface; SDP carries public_address, which is what
	// the trunk must send to.
	ports, err := media.NewPorts(netip.IPv4Unspecified(), v.RTPPorts.Min, v.RTPPorts.Max)
	if err != nil {
		return fmt.Errorf("voice: %w", err)
	}
	stt, tts, err := g.speech(ctx, v)
	if err != nil {
		return err
	}
	g.voice = voice.New(voice.Options{Store: g.store, Turns: g.turns, Ports: ports, STT: stt, TTS: tts,
		Live: g.voiceLive, Metrics: voice.NewMetrics(g.reg), Log: g.log.With("channel", "voice"), Now: g.now})
	g.sip, err = sip.NewServer(sip.Config{
		UDP: cfg.Listen.SIP, TCP: cfg.Listen.SIP,
		TLS: v.TLS.Listen, CertFile: cfg.ResolvePath(v.TLS.CertFile), KeyFile: cfg.ResolvePath(v.TLS.KeyFile),
		Trunks: trunks, Outbound: v.Outbound, UserAgent: "Switchboard", MaxCalls: v.MaxCalls,
		OutboundUsername: v.OutboundUsername, OutboundPassword: outboundPassword,
		PublicHost: v.PublicAddress, Identity: v.Identity,
	}, g.voice, g.reg, g.log.With("component", "sip"))
	if err != nil {
		return fmt.Errorf("voice: %w", err)
	}
	return nil
}

// speech builds the recogniser and the synthesiser the config names:
// embedded (pocketsphinx, flite) or an OpenAI-compatible API.
func (g *Gateway) speech(ctx context.Context, v config.VoiceChannel) (dialog.STT, dialog.TTS, error) {
	var (
		stt dialog.STT
		tts dialog.TTS
		err error
	)
	switch v.STT.Kind {
	case "openai":
		stt, err = dialog.NewOpenAISTT(v.STT, g.log)
	default:
		stt, err = dialog.NewPocketsphinx(dialog.PocketsphinxConfig{MaxParallel: v.STT.MaxParallel, Log: g.log})
	}
	if err != nil {
		return nil, nil, fmt.Errorf("voice: speech recognition: %w", err)
	}
	switch v.TTS.Kind {
	case "openai":
		tts, err = dialog.NewOpenAITTS(v.TTS, g.log)
	default:
		tts, err = dialog.NewFlite(ctx, dialog.FliteConfig{Voice: v.TTS.Voice, MaxParallel: v.TTS.MaxParallel, Log: g.log})
	}
	if err != nil {
		return nil, nil, fmt.Errorf("voice: speech synthesis: %w", err)
	}
	return stt, tts, nil
}

func sipTrunks(ts []config.Trunk) ([]sip.Trunk, error) {
	out := make([]sip.Trunk, 0, len(ts))
	for _, t := range ts {
		st := sip.Trunk{Name: t.Name, Username: t.Username}
		for _, a := range t.Allow {
			p, err := netip.ParsePrefix(a)
			if err != nil {
				return nil, fmt.Errorf("voice: trunk %s: %w", t.Name, err)
			}
			st.Allow = append(st.Allow, p)
		}
		pw, err := config.TrunkPassword(t)
		if err != nil {
			return nil, fmt.Errorf("voice: %w", err)
		}
		st.Password = pw
		out = append(out, st)
	}
	return out, nil
}

func (g *Gateway) voiceLive() voice.Live {
	rt := g.live.Load()
	return voice.Live{Voice: rt.cfg.Channels.Voice, Handoff: rt.cfg.Handoff, ConsoleURL: consoleURL(rt.cfg), Masker: rt.masker}
}

// consoleURL is the base of the links to conversations sent with a
// transferred call: the public address and the HTTP port.
func consoleURL(cfg *config.Config) string {
	_, port, err := net.SplitHostPort(cfg.Listen.HTTP)
	if err != nil {
		return ""
	}
	return "http://" + net.JoinHostPort(cfg.Channels.Voice.PublicAddress, port) + "/agent/conversations"
}

// agentLink sends the links of transferred calls to the console page.
func agentLink(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, "/agent?conversation="+url.QueryEscape(r.PathValue("id")), http.StatusFound)
}
