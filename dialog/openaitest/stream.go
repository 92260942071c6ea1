package openaitest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	openai "github.com/sashabaranov/go-openai"
)

// chunk is one chat.completion.chunk server-sent event.
type chunk struct {
	ID                string        `json:"id"`
	Object            string        `json:"object"`
	Created           int64         `json:"created"`
	Model             string        `json:"model"`
	SystemFingerprint string        `json:"system_fingerprint"`
	Choices           []chunkChoice `json:"choices"`
	Usage             *openai.Usage `json:"usage,omitempty"`
}

type chunkChoice struct {
	Index        int       `json:"index"`
	Delta        delta     `json:"delta"`
	Logprobs     *struct{} `json:"logprobs"`
	FinishReason *string   `json:"finish_reason"`
}

type delta struct {
	Role      string          `json:"role,omitempty"`
	Content   *string         `json:"content,omitempty"`
	ToolCalls []toolCallDelta `json:"tool_calls,omitempty"`
}

type toolCallDelta struct {
	Index    int      `json:"index"`
	ID       string   `json:"id,omitempty"`
	Type     string   `json:"type,omitempty"`
	Function function `json:"function"`
}

// stream answers a "stream": true request with server-sent events.
func (s *Server) stream(w http.ResponseWriter, r *http.Request, req openai.ChatCompletionRequest, reply ChatReply) {
	base := chunk{
		ID: s.nextID("chatcmpl"), Object: "chat.completion.chunk", Created: time.Now().Unix(),
		Model: req.Model, SystemFingerprint: fingerprint,
	}
	body, tail := s.chunks(base, req, reply)
	w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	sw := &sseWriter{w: w, rc: http.NewResponseController(w), ctx: r.Context(), done: s.done, gap: reply.ChunkDelay}

	if reply.Stall || reply.Malformed {
		cut := 1 + min(1, len(reply.Content)) // the role chunk and the first content delta
		if !sw.sendAll(body[:cut]) {
			return
		}
		if reply.Malformed {
			sw.line(`{"id": "` + base.ID + `", "choices": [{"delta":`)
			return
		}
		s.stall(r.Context())
		return
	}
	if !sw.sendAll(body) || reply.Truncated || !sw.sendAll(tail) {
		return
	}
	sw.line("[DONE]")
}

// chunks builds the stream: body is the role, content and tool call
// chunks; tail is the finish chunk and, if asked for, the usage chunk.
func (s *Server) chunks(base chunk, req openai.ChatCompletionRequest, reply ChatReply) (body, tail []chunk) {
	with := func(d delta, finish *string) chunk {
		c := base
		c.Choices = []chunkChoice{{Delta: d, FinishReason: finish}}
		return c
	}
	empty := ""
	role := delta{Role: "assistant"}
	if len(reply.ToolCalls) == 0 || len(reply.Content) > 0 {
		role.Content = &empty
	}
	body = append(body, with(role, nil))
	for _, part := range reply.Content {
		body = append(body, with(delta{Content: &part}, nil))
	}
	for i, tc := range reply.ToolCalls {
		first := toolCallDelta{Index: i, ID: s.toolCallID(tc), Type: "function", Function: function{Name: tc.Name}}
		body = append(body, with(delta{ToolCalls: []toolCallDelta{first}}, nil))
		for _, piece := range split(arguments(tc)) {
			frag := toolCallDelta{Index: i, Function: function{Arguments: piece}}
			body = append(body, with(delta{ToolCalls: []toolCallDelta{frag}}, nil))
		}
	}
	finish := finishReason(reply)
	tail = append(tail, with(delta{}, &finish))
	if req.StreamOptions != nil && req.StreamOptions.IncludeUsage {
		usage := base
		usage.Choices = []chunkChoice{}
		usage.Usage = &openai.Usage{}
		if reply.Usage != nil {
			usage.Usage = reply.Usage
		}
		tail = append(tail, usage)
	}
	return body, tail
}

// split cuts text into about three pieces on rune boundaries, two at
// least when it has two runes, as OpenAI streams arguments token by token.
func split(text string) []string {
	runes := []rune(text)
	size := max(1, (len(runes)+2)/3)
	var pieces []string
	for len(runes) > 0 {
		n := min(size, len(runes))
		pieces = append(pieces, string(runes[:n]))
		runes = runes[n:]
	}
	return pieces
}

// sseWriter writes "data: ...\n\n" lines, flushing each, with a gap
// between them.
type sseWriter struct {
	w    http.ResponseWriter
	rc   *http.ResponseController
	ctx  context.Context
	done <-chan struct{}
	gap  time.Duration
	sent int
}

func (sw *sseWriter) sendAll(chunks []chunk) bool {
	for _, c := range chunks {
		b, err := json.Marshal(c)
		if err != nil {
			panic(fmt.Sprintf("openaitest: encoding a chunk: %v", err)) // our own type: a bug here
		}
		if !sw.line(string(b)) {
			return false
		}
	}
	return true
}

// line sends one event; false means the client or the server is gone.
func (sw *sseWriter) line(data string) bool {
	if sw.sent > 0 && sw.gap > 0 {
		t := time.NewTimer(sw.gap)
		defer t.Stop()
		select {
		case <-t.C:
		case <-sw.ctx.Done():
			return false
		case <-sw.done:
			return false
		}
	}
	sw.sent++
	if _, err := fmt.Fprintf(sw.w, "data: %s\n\n", data); err != nil {
		return false
	}
	return sw.flush()
}

func (sw *sseWriter) flush() bool {
	return sw.rc.Flush() == nil
}
