package gateway

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"switchboard/channels/webchat"
	"switchboard/config"
	"switchboard/desk"
	"switchboard/store"
)

// newDesk builds the agent desk: the agents from the config or, with none
// configured, SWITCHBOARD_AGENT_TOKENS / SWITCHBOARD_AGENT_TOKEN, or one
// agent whose token is generated into data_dir/agent-token.
func (g *Gateway) newDesk(cfg *config.Config) (*desk.Desk, error) {
	src := desk.OSSources(cfg.ResolvePath)
	single := ""
	if len(cfg.Agents) == 0 && os.Getenv("SWITCHBOARD_AGENT_TOKENS") == "" {
		tok, err := secretFile("SWITCHBOARD_AGENT_TOKEN", cfg.DataDir, "agent-token", g.log)
		if err != nil {
			return nil, fmt.Errorf("desk: %w", err)
		}
		single = tok
		if os.Getenv("SWITCHBOARD_AGENT_TOKEN") == "" {
			g.agentTokenFile = filepath.Join(cfg.DataDir, "agent-token")
		}
	}
	agents, err := desk.LoadAgents(cfg.Agents, src, single)
	if err != nil {
		return nil, fmt.Errorf("desk: %w", err)
	}
	g.agents = agents
	g.presence = desk.NewPresence(g.bus, g.instance, g.now, g.log.With("component", "presence"))
	routes := map[string]desk.Route{}
	if cfg.Channels.Web.Enabled {
		routes["web"] = desk.ByBus // the visitor's stream hears the stored reply
	}
	return desk.New(desk.Options{Store: g.store, Bus: g.bus, Agents: agents, Presence: g.presence, Routes: routes,
		Live: g.deskLive, AnswerPending: g.answerPending, Log: g.log.With("component", "desk"), Now: g.now}), nil
}

func (g *Gateway) deskLive() desk.Live {
	rt := g.live.Load()
	return desk.Live{Handoff: rt.cfg.Handoff, File: rt.cfg.File, AllowedOrigins: rt.cfg.Channels.Web.AllowedOrigins,
		MaxMessageChars: rt.cfg.Channels.Web.MaxMessageChars}
}

// newWebChat builds the web chat channel with its customer tokens, signed
// with the server secret (SWITCHBOARD_SECRET, or data_dir/secret; several
// instances must share it).
func (g *Gateway) newWebChat(cfg *config.Config) (*webchat.Server, error) {
	secret, err := secretFile("SWITCHBOARD_SECRET", cfg.DataDir, "secret", g.log)
	if err != nil {
		return nil, fmt.Errorf("web chat: %w", err)
	}
	tokens, err := webchat.NewTokens([]byte(secret))
	if err != nil {
		return nil, err
	}
	return webchat.New(webchat.Options{Store: g.store, Turns: g.turns, Bus: g.bus, Live: g.webLive, Tokens: tokens,
		Names: g.agents.Name, Log: g.log, Now: g.now}), nil
}

func (g *Gateway) webLive() webchat.Live {
	rt := g.live.Load()
	return webchat.Live{Web: rt.cfg.Channels.Web, Handoff: rt.cfg.Handoff, Company: rt.company}
}

func (g *Gateway) answerPending(ctx context.Context, id store.ConversationID) error {
	_, err := g.turns.AnswerPending(ctx, id)
	return err
}
