package openaitest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"time"

	openai "github.com/sashabaranov/go-openai"
)

// ToolCall is a function call the model asks for. Arguments is a JSON
// object as text; empty means "{}".
type ToolCall struct{ ID, Name, Arguments string }

// ChatReply scripts the answer to one chat completion request.
//
// A streamed reply is, as OpenAI sends it: a chunk with the assistant role
// and empty content, one chunk per Content delta, the tool calls, a chunk
// with an empty delta and the finish reason, a usage chunk with no choices
// if the request asked for one, and "data: [DONE]".
type ChatReply struct {
	Content []string // content deltas, streamed in order (or joined for a non-stream request)
	// ToolCalls are sent after the content, each streamed in 2+ argument
	// pieces like OpenAI does (index, id, type "function", function.name
	// and empty arguments first, then arguments fragments); the finish
	// reason is then "tool_calls". An empty ID is filled in.
	ToolCalls  []ToolCall
	Delay      time.Duration // before the response starts
	ChunkDelay time.Duration // between stream chunks
	Status     int           // non-zero: answer with this status and an OpenAI-shaped JSON error instead
	RetryAfter string        // with Status: a Retry-After header value ("1", "0")
	// Stall, for a stream, sends the headers, the role chunk and the first
	// content delta (if any), then nothing until the client goes away. For a
	// non-stream request it sends nothing at all until then.
	Stall bool
	// Malformed, for a stream, sends the role chunk and the first content
	// delta (if any), then a data: line that is not JSON, and ends the
	// body. For a non-stream request the 200 body is not JSON.
	Malformed bool
	// Truncated, for a stream, ends the body after the content and tool
	// calls, with no finish reason and no [DONE], as a dropped connection
	// would. go-openai's Recv reports that as a plain io.EOF.
	Truncated bool
	// Usage is the token usage reported: in the final chunk of a stream
	// only when the request set stream_options.include_usage, as OpenAI
	// does (zero counts if nil); always in a non-stream answer.
	Usage *openai.Usage
}

// QueueChat queues replies for the coming chat requests, first in first
// out. When the queue is empty a request gets ChatReply{Content: {"OK"}}.
func (s *Server) QueueChat(replies ...ChatReply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.chatQueue = append(s.chatQueue, replies...)
}

// ChatRequests returns every chat request received and decoded, in order.
func (s *Server) ChatRequests() []openai.ChatCompletionRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]openai.ChatCompletionRequest(nil), s.chatRequests...)
}

func (s *Server) recordChat(req openai.ChatCompletionRequest) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.chatRequests = append(s.chatRequests, req)
}

// nextChat takes the next scripted reply; a request OpenAI would refuse
// takes none.
func (s *Server) nextChat() ChatReply {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.chatQueue) == 0 {
		return ChatReply{Content: []string{"OK"}}
	}
	reply := s.chatQueue[0]
	s.chatQueue = s.chatQueue[1:]
	return reply
}

func (s *Server) handleChat(w http.ResponseWriter, r *http.Request) {
	// Read to EOF, not with a json.Decoder: the server only notices a
	// client going away (and cancels r.Context) once the body is consumed.
	body, err := io.ReadAll(r.Body)
	var req openai.ChatCompletionRequest
	if err == nil {
		err = json.Unmarshal(body, &req)
	}
	if err != nil {
		s.writeError(w, http.StatusBadRequest, invalid(unparsable, ""))
		return
	}
	s.recordChat(req)
	switch {
	case req.Model == "":
		s.writeError(w, http.StatusBadRequest, invalid(noModel, ""))
		return
	case len(req.Messages) == 0:
		s.writeError(w, http.StatusBadRequest, invalid("[] is too short - 'messages'", "messages"))
		return
	}
	reply := s.nextChat()
	if !s.wait(r.Context(), reply.Delay) {
		return
	}
	if reply.Status != 0 {
		s.writeStatusError(w, reply.Status, reply.RetryAfter)
		return
	}
	if req.Stream {
		s.stream(w, r, req, reply)
		return
	}
	s.complete(w, r, req, reply)
}

// wait sleeps for d unless the request or the server ends first; it
// reports whether the handler should go on.
func (s *Server) wait(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
	case <-s.done:
	}
	return false
}

// stall holds a handler until the client goes away or the server closes.
func (s *Server) stall(ctx context.Context) {
	select {
	case <-ctx.Done():
	case <-s.done:
	}
}

// completion is a non-stream chat completion.
type completion struct {
	ID                string             `json:"id"`
	Object            string             `json:"object"`
	Created           int64              `json:"created"`
	Model             string             `json:"model"`
	SystemFingerprint string             `json:"system_fingerprint"`
	Choices           []completionChoice `json:"choices"`
	Usage             openai.Usage       `json:"usage"`
}

type completionChoice struct {
	Index        int       `json:"index"`
	Message      message   `json:"message"`
	Logprobs     *struct{} `json:"logprobs"`
	FinishReason string    `json:"finish_reason"`
}

type message struct {
	Role      string         `json:"role"`
	Content   *string        `json:"content"`
	ToolCalls []fullToolCall `json:"tool_calls,omitempty"`
	Refusal   *string        `json:"refusal"`
}

type fullToolCall struct {
	ID       string   `json:"id"`
	Type     string   `json:"type"`
	Function function `json:"function"`
}

type function struct {
	Name      string `json:"name,omitempty"`
	Arguments string `json:"arguments"`
}

func (s *Server) complete(w http.ResponseWriter, r *http.Request, req openai.ChatCompletionRequest, reply ChatReply) {
	switch {
	case reply.Stall:
		s.stall(r.Context())
		return
	case reply.Malformed:
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id": "chatcmpl-`) // a client that went away is not the server's error
		return
	}
	msg := message{Role: "assistant"}
	if len(reply.Content) > 0 || len(reply.ToolCalls) == 0 {
		var text string
		for _, part := range reply.Content {
			text += part
		}
		msg.Content = &text
	}
	for _, tc := range reply.ToolCalls {
		msg.ToolCalls = append(msg.ToolCalls, fullToolCall{
			ID: s.toolCallID(tc), Type: "function",
			Function: function{Name: tc.Name, Arguments: arguments(tc)},
		})
	}
	resp := completion{
		ID: s.nextID("chatcmpl"), Object: "chat.completion", Created: time.Now().Unix(),
		Model: req.Model, SystemFingerprint: fingerprint,
		Choices: []completionChoice{{Message: msg, FinishReason: finishReason(reply)}},
	}
	if reply.Usage != nil {
		resp.Usage = *reply.Usage
	}
	writeJSON(w, http.StatusOK, resp)
}

const (
	fingerprint = "fp_openaitest"
	unparsable  = "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly.)"
	noModel     = "you must provide a model parameter"
)

func finishReason(reply ChatReply) string {
	if len(reply.ToolCalls) > 0 {
		return "tool_calls"
	}
	return "stop"
}

func (s *Server) toolCallID(tc ToolCall) string {
	if tc.ID != "" {
		return tc.ID
	}
	return s.nextID("call")
}

func arguments(tc ToolCall) string {
	if tc.Arguments == "" {
		return "{}"
	}
	return tc.Arguments
}
