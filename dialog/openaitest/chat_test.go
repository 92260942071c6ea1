package openaitest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"testing"
	"time"
	"unicode/utf8"

	openai "github.com/sashabaranov/go-openai"
	"github.com/sashabaranov/go-openai/jsonschema"
)

func hello() openai.ChatCompletionRequest {
	return openai.ChatCompletionRequest{
		Model:    openai.GPT4oMini,
		Messages: []openai.ChatCompletionMessage{{Role: openai.ChatMessageRoleUser, Content: "hello"}},
	}
}

// streamed is what a consumer makes of a stream.
type streamed struct {
	deltas    []string    // non-empty content deltas, in order
	arrived   []time.Time // when each delta arrived
	calls     []openai.ToolCall
	fragments []int // argument fragments per tool call
	finish    openai.FinishReason
	usage     *openai.Usage
}

// collect reads a stream to its end, reassembling tool calls by index as
// a consumer must; it returns what arrived and the error that ended it, nil
// for a clean io.EOF.
func collect(stream *openai.ChatCompletionStream) (streamed, error) {
	var got streamed
	for {
		chunk, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return got, nil
		}
		if err != nil {
			return got, err
		}
		if chunk.Usage != nil {
			got.usage = chunk.Usage
		}
		for _, choice := range chunk.Choices {
			if choice.Delta.Content != "" {
				got.deltas = append(got.deltas, choice.Delta.Content)
				got.arrived = append(got.arrived, time.Now())
			}
			for _, tc := range choice.Delta.ToolCalls {
				got.addToolCall(tc)
			}
			if choice.FinishReason != "" {
				got.finish = choice.FinishReason
			}
		}
	}
}

func (got *streamed) addToolCall(tc openai.ToolCall) {
	i := 0
	if tc.Index != nil {
		i = *tc.Index
	}
	for len(got.calls) <= i {
		got.calls = append(got.calls, openai.ToolCall{})
		got.fragments = append(got.fragments, 0)
	}
	call := &got.calls[i]
	if tc.ID != "" {
		call.ID = tc.ID
	}
	if tc.Type != "" {
		call.Type = tc.Type
	}
	call.Function.Name += tc.Function.Name
	call.Function.Arguments += tc.Function.Arguments
	if tc.Function.Arguments != "" {
		got.fragments[i]++
	}
}

// checkCalls compares reassembled calls with the scripted ones; an empty
// scripted ID only needs some ID.
func checkCalls(t *testing.T, got []openai.ToolCall, want []ToolCall) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d tool calls, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.Type != openai.ToolTypeFunction || g.Function.Name != w.Name || g.Function.Arguments != arguments(w) ||
			g.ID == "" || (w.ID != "" && g.ID != w.ID) {
			t.Errorf("tool call %d = %+v, want %+v", i, g, w)
		}
	}
}

func TestStreamedChat(t *testing.T) {
	transfer := ToolCall{ID: "call_transfer", Name: "transfer", Arguments: `{"queue":"billing","reason":"asked for a person"}`}
	lookup := ToolCall{Name: "lookup_order", Arguments: `{"order":"A-1042"}`}
	usage := &openai.Usage{PromptTokens: 12, CompletionTokens: 3, TotalTokens: 15}
	tests := []struct {
		name         string
		reply        ChatReply
		includeUsage bool
		wantDeltas   []string
		wantCalls    []ToolCall
		wantFinish   openai.FinishReason
		wantUsage    *openai.Usage
		minSpread    time.Duration // between the first and last delta
	}{{
		name:       "content arrives chunk by chunk",
		reply:      ChatReply{Content: []string{"Hel", "lo, ", "world."}, ChunkDelay: 40 * time.Millisecond},
		wantDeltas: []string{"Hel", "lo, ", "world."},
		wantFinish: openai.FinishReasonStop,
		minSpread:  80 * time.Millisecond,
	}, {
		name:       "tool calls reassemble by index",
		reply:      ChatReply{ToolCalls: []ToolCall{transfer, lookup}},
		wantCalls:  []ToolCall{transfer, lookup},
		wantFinish: openai.FinishReasonToolCalls,
	}, {
		name:       "content then a tool call",
		reply:      ChatReply{Content: []string{"One moment."}, ToolCalls: []ToolCall{{Name: "hold"}}},
		wantDeltas: []string{"One moment."},
		wantCalls:  []ToolCall{{Name: "hold"}},
		wantFinish: openai.FinishReasonToolCalls,
	}, {
		name:         "usage in a final chunk when asked for",
		reply:        ChatReply{Content: []string{"Hi"}, Usage: usage},
		includeUsage: true,
		wantDeltas:   []string{"Hi"},
		wantFinish:   openai.FinishReasonStop,
		wantUsage:    usage,
	}, {
		name:       "no usage unless asked for",
		reply:      ChatReply{Content: []string{"Hi"}, Usage: usage},
		wantDeltas: []string{"Hi"},
		wantFinish: openai.FinishReasonStop,
	}, {
		name:       "a truncated stream ends in EOF with no finish reason",
		reply:      ChatReply{Content: []string{"Hi", " there"}, Truncated: true},
		wantDeltas: []string{"Hi", " there"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(t)
			s.QueueChat(tt.reply)
			req := hello()
			if tt.includeUsage {
				req.StreamOptions = &openai.StreamOptions{IncludeUsage: true}
			}
			stream, err := newClient(s).CreateChatCompletionStream(testContext(t), req)
			if err != nil {
				t.Fatal(err)
			}
			defer stream.Close()
			if ct := stream.Header().Get("Content-Type"); ct != "text/event-stream; charset=utf-8" {
				t.Errorf("Content-Type = %q, want text/event-stream", ct)
			}
			got, err := collect(stream)
			if err != nil {
				t.Fatalf("stream: %v", err)
			}
			if !reflect.DeepEqual(got.deltas, tt.wantDeltas) {
				t.Errorf("deltas = %q, want %q", got.deltas, tt.wantDeltas)
			}
			if n := len(got.arrived); tt.minSpread > 0 && got.arrived[n-1].Sub(got.arrived[0]) < tt.minSpread {
				t.Errorf("deltas arrived within %v, want them spread over %v", got.arrived[n-1].Sub(got.arrived[0]), tt.minSpread)
			}
			checkCalls(t, got.calls, tt.wantCalls)
			for i, n := range got.fragments {
				if n < 2 {
					t.Errorf("tool call %d arguments came in %d fragment(s), want 2+", i, n)
				}
			}
			if got.finish != tt.wantFinish {
				t.Errorf("finish reason = %q, want %q", got.finish, tt.wantFinish)
			}
			if !reflect.DeepEqual(got.usage, tt.wantUsage) {
				t.Errorf("usage = %+v, want %+v", got.usage, tt.wantUsage)
			}
		})
	}
}

func TestNonStreamChat(t *testing.T) {
	call := ToolCall{ID: "call_1", Name: "transfer", Arguments: `{"queue":"sales"}`}
	tests := []struct {
		name        string
		queue       []ChatReply
		wantContent string
		wantCalls   []ToolCall
		wantFinish  openai.FinishReason
		wantUsage   openai.Usage
	}{{
		name:        "content deltas are joined",
		queue:       []ChatReply{{Content: []string{"Your order ", "shipped."}, Usage: &openai.Usage{PromptTokens: 9, CompletionTokens: 4, TotalTokens: 13}}},
		wantContent: "Your order shipped.",
		wantFinish:  openai.FinishReasonStop,
		wantUsage:   openai.Usage{PromptTokens: 9, CompletionTokens: 4, TotalTokens: 13},
	}, {
		name:       "tool calls",
		queue:      []ChatReply{{ToolCalls: []ToolCall{call}}},
		wantCalls:  []ToolCall{call},
		wantFinish: openai.FinishReasonToolCalls,
	}, {
		name:        "an empty queue answers OK",
		wantContent: "OK",
		wantFinish:  openai.FinishReasonStop,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(t)
			s.QueueChat(tt.queue...)
			resp, err := newClient(s).CreateChatCompletion(testContext(t), hello())
			if err != nil {
				t.Fatal(err)
			}
			if resp.Object != "chat.completion" || resp.Model != openai.GPT4oMini || len(resp.Choices) != 1 {
				t.Fatalf("response = %+v, want one chat.completion choice for %s", resp, openai.GPT4oMini)
			}
			choice := resp.Choices[0]
			if choice.Message.Role != openai.ChatMessageRoleAssistant || choice.Message.Content != tt.wantContent {
				t.Errorf("message = %s %q, want assistant %q", choice.Message.Role, choice.Message.Content, tt.wantContent)
			}
			checkCalls(t, choice.Message.ToolCalls, tt.wantCalls)
			if choice.FinishReason != tt.wantFinish {
				t.Errorf("finish reason = %q, want %q", choice.FinishReason, tt.wantFinish)
			}
			if resp.Usage != tt.wantUsage {
				t.Errorf("usage = %+v, want %+v", resp.Usage, tt.wantUsage)
			}
		})
	}
}

func TestChatErrorStatuses(t *testing.T) {
	tests := []struct {
		name           string
		reply          ChatReply
		wantType       string
		wantCode       any
		wantRetryAfter string
	}{
		{"rate limited", ChatReply{Status: http.StatusTooManyRequests, RetryAfter: "1"}, "requests", "rate_limit_exceeded", "1"},
		// OpenAI sends "code": null here; go-openai decodes a null code as 0.
		{"server error", ChatReply{Status: http.StatusInternalServerError}, "server_error", 0, ""},
		{"overloaded", ChatReply{Status: http.StatusServiceUnavailable, RetryAfter: "0"}, "server_error", 0, "0"},
		{"bad request", ChatReply{Status: http.StatusBadRequest}, "invalid_request_error", 0, ""},
	}
	for _, tt := range tests {
		for _, stream := range []bool{false, true} {
			name := tt.name + map[bool]string{false: " (complete)", true: " (stream)"}[stream]
			t.Run(name, func(t *testing.T) {
				s := New(t)
				s.QueueChat(tt.reply)
				var err error
				if stream {
					_, err = newClient(s).CreateChatCompletionStream(testContext(t), hello())
				} else {
					_, err = newClient(s).CreateChatCompletion(testContext(t), hello())
				}
				apiErr := asAPIError(t, err)
				if apiErr.HTTPStatusCode != tt.reply.Status || apiErr.Type != tt.wantType || apiErr.Code != tt.wantCode || apiErr.Message == "" {
					t.Errorf("error = %+v, want status %d type %q code %v", apiErr, tt.reply.Status, tt.wantType, tt.wantCode)
				}
				if got := s.LastRetryAfter(); got != tt.wantRetryAfter {
					t.Errorf("Retry-After = %q, want %q", got, tt.wantRetryAfter)
				}
				// The next request gets the default reply: a caller's retry succeeds.
				if _, err := newClient(s).CreateChatCompletion(testContext(t), hello()); err != nil {
					t.Errorf("retry: %v", err)
				}
				if got := s.Requests(); got != 2 {
					t.Errorf("Requests() = %d, want 2", got)
				}
			})
		}
	}
}

func TestChatFailures(t *testing.T) {
	var syntaxErr *json.SyntaxError
	tests := []struct {
		name       string
		reply      ChatReply
		stream     bool
		timeout    time.Duration
		wantDeltas []string // arrived before the failure
		wantErr    func(error) bool
	}{{
		name:       "a stalled stream times out on the client's context",
		reply:      ChatReply{Content: []string{"Let me", " check"}, Stall: true},
		stream:     true,
		timeout:    200 * time.Millisecond,
		wantDeltas: []string{"Let me"},
		wantErr:    func(err error) bool { return errors.Is(err, context.DeadlineExceeded) },
	}, {
		name:    "a stalled completion times out on the client's context",
		reply:   ChatReply{Stall: true},
		timeout: 200 * time.Millisecond,
		wantErr: func(err error) bool { return errors.Is(err, context.DeadlineExceeded) },
	}, {
		name:    "a delay longer than the client waits",
		reply:   ChatReply{Delay: time.Minute},
		stream:  true,
		timeout: 200 * time.Millisecond,
		wantErr: func(err error) bool { return errors.Is(err, context.DeadlineExceeded) },
	}, {
		name:       "a malformed chunk is an error from Recv",
		reply:      ChatReply{Content: []string{"Hi", " there"}, Malformed: true},
		stream:     true,
		wantDeltas: []string{"Hi"},
		wantErr:    func(err error) bool { return errors.As(err, &syntaxErr) },
	}, {
		name:    "a malformed completion is an error",
		reply:   ChatReply{Malformed: true},
		wantErr: func(err error) bool { return err != nil },
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(t)
			s.QueueChat(tt.reply)
			ctx := testContext(t)
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			start := time.Now()
			var got streamed
			var err error
			if tt.stream {
				var stream *openai.ChatCompletionStream
				if stream, err = newClient(s).CreateChatCompletionStream(ctx, hello()); err == nil {
					defer stream.Close()
					got, err = collect(stream)
				}
			} else {
				_, err = newClient(s).CreateChatCompletion(ctx, hello())
			}
			if !tt.wantErr(err) {
				t.Errorf("error = %v (%T), not the failure expected", err, err)
			}
			if !reflect.DeepEqual(got.deltas, tt.wantDeltas) {
				t.Errorf("deltas before the failure = %q, want %q", got.deltas, tt.wantDeltas)
			}
			if tt.timeout > 0 && time.Since(start) < tt.timeout {
				t.Errorf("failed after %v, before the %v timeout", time.Since(start), tt.timeout)
			}
		})
	}
}

func TestChatWithoutModelIsRefusedAndTakesNoReply(t *testing.T) {
	s := New(t)
	s.QueueChat(ChatReply{Content: []string{"scripted"}})
	req := hello()
	req.Model = ""
	_, err := newClient(s).CreateChatCompletion(testContext(t), req)
	if apiErr := asAPIError(t, err); apiErr.HTTPStatusCode != http.StatusBadRequest || apiErr.Type != "invalid_request_error" {
		t.Errorf("error = %+v, want OpenAI's 400", apiErr)
	}
	resp, err := newClient(s).CreateChatCompletion(testContext(t), hello())
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Choices[0].Message.Content; got != "scripted" {
		t.Errorf("next reply = %q, want the scripted one", got)
	}
	if got := s.ChatRequests(); len(got) != 2 || got[0].Model != "" {
		t.Errorf("recorded %d requests, want both, the refused one first", len(got))
	}
}

func TestChatRequestsRecordsToolsAndMessages(t *testing.T) {
	s := New(t)
	s.QueueChat(ChatReply{Content: []string{"Transferring you now."}})
	params := jsonschema.Definition{
		Type:       jsonschema.Object,
		Properties: map[string]jsonschema.Definition{"queue": {Type: jsonschema.String}},
		Required:   []string{"queue"},
	}
	req := openai.ChatCompletionRequest{
		Model: openai.GPT4oMini,
		Messages: []openai.ChatCompletionMessage{
			{Role: openai.ChatMessageRoleSystem, Content: "You are a contact-center agent."},
			{Role: openai.ChatMessageRoleUser, Content: "Put me through to billing."},
			{Role: openai.ChatMessageRoleAssistant, ToolCalls: []openai.ToolCall{{
				ID: "call_9", Type: openai.ToolTypeFunction,
				Function: openai.FunctionCall{Name: "transfer", Arguments: `{"queue":"billing"}`},
			}}},
			{Role: openai.ChatMessageRoleTool, ToolCallID: "call_9", Content: `{"ok":true}`},
		},
		Tools: []openai.Tool{{Type: openai.ToolTypeFunction, Function: &openai.FunctionDefinition{
			Name: "transfer", Description: "Transfer the caller to a queue.", Parameters: params,
		}}},
	}
	stream, err := newClient(s).CreateChatCompletionStream(testContext(t), req)
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()
	if _, err := collect(stream); err != nil {
		t.Fatal(err)
	}

	got := s.ChatRequests()
	if len(got) != 1 {
		t.Fatalf("%d requests recorded, want 1", len(got))
	}
	if !got[0].Stream || got[0].Model != req.Model {
		t.Errorf("recorded stream=%v model=%q, want a stream for %q", got[0].Stream, got[0].Model, req.Model)
	}
	if !reflect.DeepEqual(got[0].Messages, req.Messages) {
		t.Errorf("messages = %+v\nwant %+v", got[0].Messages, req.Messages)
	}
	if len(got[0].Tools) != 1 || got[0].Tools[0].Function.Name != "transfer" {
		t.Fatalf("tools = %+v, want the transfer function", got[0].Tools)
	}
	if got, want := asJSON(t, got[0].Tools[0].Function.Parameters), asJSON(t, params); !reflect.DeepEqual(got, want) {
		t.Errorf("tool parameters = %v, want %v", got, want)
	}
}

// asJSON is v as generic JSON, to compare values whatever their Go types.
func asJSON(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSplitGivesTwoOrMorePieces(t *testing.T) {
	for _, text := range []string{"{}", `{"a":1}`, `{"city":"Zürich","note":"naïve ✓"}`} {
		pieces := split(text)
		joined := ""
		for _, p := range pieces {
			joined += p
			if !utf8.ValidString(p) {
				t.Errorf("split(%q) cut a rune: %q", text, p)
			}
		}
		if len(pieces) < 2 || joined != text {
			t.Errorf("split(%q) = %q, want 2+ pieces joining back", text, pieces)
		}
	}
}
