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
	"switchboard/media"
	_ "switchboard/media/g722" // registers the G.722 codec
	_ "switchboard/media/opus" // registers Opus (browser calls; libopus through cgo)
	"switchboard/sip"
	"switchboard/speech"
)

// newVoice builds the phone channel and its SIP server. Listen addresses,
// TLS, RTP ports, the outbound proxy with its credentials, the identity and
// the speech providers take effect at start; trunks follow reloads at the
// next request (reloadTrunks), and greeting, codecs, timeouts and handoff
// targets call by call.
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
	stt, tts, err := g.speech(ctx, cfg.Speech)
	if err != nil {
		return err
	}
	g.voice = voice.New(voice.Options{Store: g.store, Turns: g.turns, Ports: ports, STT: stt, TTS: tts,
		Live: g.voiceLive, Metrics: voice.NewMetrics(g.reg), Log: g.log.With("channel", "voice"), Now: g.now,
		Instance: g.instance})
	g.sip, err = sip.NewServer(sip.Config{
		UDP: cfg.Listen.SIP, TCP: cfg.Listen.SIP,
		TLS: v.TLS.Listen, CertFile: cfg.ResolvePath(v.TLS.CertFile), KeyFile: cfg.ResolvePath(v.TLS.KeyFile),
		Trunks: trunks, Outbound: v.Outbound, UserAgent: "Switchboard", MaxCalls: v.MaxCalls, Limits: sipLimits(v.Limits),
		TCPGuard:         sip.TCPLimits{FirstMessage: v.TCP.FirstMessageTimeout, Idle: v.TCP.IdleTimeout, MaxPerSource: v.TCP.MaxPerSource},
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
func (g *Gateway) speech(ctx context.Context, v config.SpeechProviders) (speech.STT, speech.TTS, error) {
	var (
		stt speech.STT
		tts speech.TTS
		err error
	)
	switch v.STT.Kind {
	case "openai":
		stt, err = speech.NewOpenAISTT(v.STT, g.log)
	default:
		stt, err = speech.NewPocketsphinx(speech.PocketsphinxConfig{MaxParallel: v.STT.MaxParallel, Log: g.log})
	}
	if err != nil {
		return nil, nil, fmt.Errorf("voice: speech recognition: %w", err)
	}
	switch v.TTS.Kind {
	case "openai":
		tts, err = speech.NewOpenAITTS(v.TTS, g.log)
	default:
		tts, err = speech.NewFlite(ctx, speech.FliteConfig{Voice: v.TTS.Voice, MaxParallel: v.TTS.MaxParallel, Log: g.log})
	}
	if err != nil {
		return nil, nil, fmt.Errorf("voice: speech synthesis: %w", err)
	}
	return stt, tts, nil
}

// reloadTrunks applies the trunks of a reloaded config: they are what an
// admin narrows to cut off an abusive source, so they must not wait for a
// restart. An error leaves the old trunks and rejects the reload.
func (g *Gateway) reloadTrunks(cfg *config.Config) error {
	if g.sip == nil {
		return nil
	}
	trunks, err := sipTrunks(cfg.Channels.Voice.Trunks)
	if err == nil {
		err = g.sip.SetTrunks(trunks)
	}
	if err != nil {
		return fmt.Errorf("channels.voice.trunks: %w", err)
	}
	return nil
}

// restartKeys names the voice and speech keys whose change a reload cannot
// apply.
func restartKeys(old, cfg *config.Config) []string {
	var keys []string
	changed := func(key string, differ bool) {
		if differ {
			keys = append(keys, key)
		}
	}
	o, v := old.Channels.Voice, cfg.Channels.Voice
	changed("channels.voice.enabled", o.Enabled != v.Enabled)
	changed("channels.voice.public_address", o.PublicAddress != v.PublicAddress)
	changed("channels.voice.tls", o.TLS != v.TLS)
	changed("channels.voice.rtp_ports", o.RTPPorts != v.RTPPorts)
	changed("channels.voice.max_calls", o.MaxCalls != v.MaxCalls)
	changed("channels.voice.limits", o.Limits != v.Limits)
	changed("channels.voice.tcp", o.TCP != v.TCP)
	changed("channels.voice.outbound", o.Outbound != v.Outbound)
	changed("speech.stt", old.Speech.STT != cfg.Speech.STT)
	changed("speech.tts", old.Speech.TTS != cfg.Speech.TTS)
	return keys
}

func sipLimits(l config.VoiceLimits) sip.Limits {
	rate := func(r config.Rate) sip.Rate { return sip.Rate{PerSecond: r.PerSecond, Burst: r.Burst} }
	return sip.Limits{Invite: rate(l.Invite), Register: rate(l.Register), Options: rate(l.Options),
		Other: rate(l.Other), DropAfter: l.DropAfter}
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
