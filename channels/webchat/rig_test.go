package webchat

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"switchboard/config"
	"switchboard/desk"
	"switchboard/dialog/dialogtest"
	"switchboard/store"
)

const agentToken = "test-agent-token-0123456789"
const otherAgentToken = "test-other-token-0123456789"

// rig is the web chat on dialogtest's core (a real SQLite store, the
// shipped config's policy and knowledge base) behind a real HTTP server.
type rig struct {
	t     *testing.T
	srv   *httptest.Server
	chat  *Server
	desk  *desk.Desk
	store store.Store
	live  Live
}

func newRig(t *testing.T, edit func(*Live)) *rig {
	t.Helper()
	core := dialogtest.New(t, "balanced", nil)
	cfg := core.Config
	tokens, err := NewTokens(bytes.Repeat([]byte("s"), 32))
	if err != nil {
		t.Fatal(err)
	}
	agents, err := desk.LoadAgents([]config.Agent{{Name: "Alice", TokenEnv: "A"}, {Name: "Bob", TokenEnv: "B"}},
		desk.Sources{Getenv: env{"A": agentToken, "B": otherAgentToken}.get}, "")
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, store: core.Store, live: Live{Web: cfg.Channels.Web, Handoff: cfg.Handoff, Company: core.KB.Company}}
	if edit != nil {
		edit(&r.live)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	r.chat = New(Options{Store: core.Store, Turns: core.Turns, Bus: core.Bus, Live: func() Live { return r.live },
		Tokens: tokens, Names: agents.Name, Log: log, Now: time.Now})
	r.desk = desk.New(desk.Options{Store: core.Store, Bus: core.Bus, Agents: agents,
		Presence: desk.NewPresence(core.Bus, "test", time.Now, log), Routes: map[string]desk.Route{"web": desk.ByBus},
		Live: func() desk.Live {
			return desk.Live{Handoff: r.live.Handoff, File: cfg.File, AllowedOrigins: r.live.Web.AllowedOrigins,
				MaxMessageChars: r.live.Web.MaxMessageChars}
		}, AnswerPending: func(ctx context.Context, id store.ConversationID) error {
			_, err := core.Turns.AnswerPending(ctx, id)
			return err
		}, Log: log, Now: time.Now})
	mux := http.NewServeMux()
	r.chat.Register(mux)
	r.desk.Register(mux)
	r.srv = httptest.NewServer(mux)
	t.Cleanup(r.srv.Close)
	return r
}

type resp struct {
	status int
	body   map[string]any
	header http.Header
}

// do sends a request with a JSON body (a string is sent as is) and the
// bearer token, and decodes the JSON answer.
func (r *rig) do(method, path, token string, body any) resp {
	r.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, r.srv.URL+path, rd)
	if err != nil {
		r.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer res.Body.Close()
	out := resp{status: res.StatusCode, header: res.Header, body: map[string]any{}}
	raw, _ := io.ReadAll(res.Body)
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out.body); err != nil {
			r.t.Fatalf("%s %s: answer is not JSON: %q", method, path, raw)
		}
	}
	return out
}

// start creates a web conversation and returns its id and token.
func (r *rig) start() (string, string) {
	r.t.Helper()
	res := r.do("POST", "/api/v1/conversations", "", map[string]string{"channel": "web"})
	if res.status != http.StatusCreated {
		r.t.Fatalf("create: %d %v", res.status, res.body)
	}
	return res.body["id"].(string), res.body["token"].(string)
}

func (r *rig) say(id, token, text string) resp {
	r.t.Helper()
	return r.do("POST", "/api/v1/conversations/"+id+"/messages", token, map[string]string{"text": text})
}

func (r *rig) messages(id, token string) []map[string]any {
	r.t.Helper()
	res := r.do("GET", "/api/v1/conversations/"+id+"/messages", token, nil)
	if res.status != http.StatusOK {
		r.t.Fatalf("messages: %d %v", res.status, res.body)
	}
	var out []map[string]any
	for _, m := range res.body["messages"].([]any) {
		out = append(out, m.(map[string]any))
	}
	return out
}

// env is an environment for desk.Sources.
type env map[string]string

func (e env) get(k string) string { return e[k] }
