package gateway

import (
	"fmt"
	"os"

	"switchboard/channels/webchat"
	"switchboard/config"
)

// newWebChat builds the web chat channel with its tokens: the server
// secret (SWITCHBOARD_SECRET, or data_dir/secret) and the agents
// (SWITCHBOARD_AGENT_TOKENS / SWITCHBOARD_AGENT_TOKEN, or one agent whose
// token is generated into data_dir/agent-token).
func (g *Gateway) newWebChat(cfg *config.Config) (*webchat.Server, error) {
	secret, err := secretFile("SWITCHBOARD_SECRET", cfg.DataDir, "secret", g.log)
	if err != nil {
		return nil, fmt.Errorf("web chat: %w", err)
	}
	agents, err := webchat.ParseAgents(os.Getenv("SWITCHBOARD_AGENT_TOKENS"), os.Getenv("SWITCHBOARD_AGENT_TOKEN"))
	if err != nil {
		return nil, fmt.Errorf("web chat: %w", err)
	}
	if len(agents) == 0 {
		tok, err := secretFile("SWITCHBOARD_AGENT_TOKEN", cfg.DataDir, "agent-token", g.log)
		if err != nil {
			return nil, fmt.Errorf("web chat: %w", err)
		}
		agents["agent"] = tok
	}
	tokens, err := webchat.NewTokens([]byte(secret), agents)
	if err != nil {
		return nil, err
	}
	return webchat.New(webchat.Options{Store: g.store, Turns: g.turns, Live: g.webLive, Tokens: tokens, Log: g.log, Now: g.now}), nil
}

func (g *Gateway) webLive() webchat.Live {
	rt := g.live.Load()
	return webchat.Live{Web: rt.cfg.Channels.Web, Handoff: rt.cfg.Handoff, File: rt.cfg.File, Company: rt.company}
}
