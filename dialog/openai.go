package dialog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	openai "github.com/sashabaranov/go-openai"

	"switchboard/config"
	"switchboard/handoff"
	"switchboard/internal/openaiapi"
	"switchboard/store"
)

// OpenAIInputs are what an OpenAI responder is built from besides its own
// config.
type OpenAIInputs struct {
	// Knowledge goes into the system prompt: the company's name and its
	// questions and answers. Required.
	Knowledge *Knowledge
	// Handoff gives the level (per channel), restricted topics, details to
	// collect and messages that the prompt describes to the model.
	Handoff config.Handoff
	// Fallback answers when the provider fails: the embedded responder.
	// Required.
	Fallback Responder
	// HTTPClient, if set, is copied and its transport wrapped; nil builds
	// one with the config's ConnectTimeout.
	HTTPClient *http.Client
	Log        *slog.Logger // nil discards
	Clock      RetryClock   // nil is the wall clock
}

// OpenAI writes replies with an OpenAI-compatible chat completions API,
// streamed. The model is given one tool, transfer_to_human; calling it makes
// the reply a Transfer, which is only a request: the conductor marks the AI
// turn Transfer and the handoff policy grants it or not by the level, so
// Respond never hands off by itself. Rate limits, server errors and
// network failures are retried within the turn's deadline; when the
// provider still fails, the fallback responder answers and the reply says
// Fallback, so a provider outage never leaves a customer without a reply.
// It is safe for concurrent use.
type OpenAI struct {
	cfg      config.OpenAIResponder
	client   *openai.Client
	secrets  openaiapi.Redactor // applied to every error of client before it is logged or returned
	fallback Responder
	log      *slog.Logger
	clock    RetryClock
	tools    []openai.Tool
	prompt   promptInput // without Channel and Rules, which vary per turn
	handoff  config.Handoff

	mu      sync.Mutex
	prompts map[store.Channel]string // channel -> system prompt
}

var _ Responder = (*OpenAI)(nil)

// NewOpenAI builds the responder. The API key is read now from the
// environment variable cfg.APIKeyEnv names; a named but empty variable is an
// error, so a forgotten secret shows at start, not on the first customer.
func NewOpenAI(cfg config.OpenAIResponder, in OpenAIInputs) (*OpenAI, error) {
	switch {
	case in.Knowledge == nil:
		return nil, errors.New("openai responder: no knowledge")
	case in.Fallback == nil:
		return nil, errors.New("openai responder: no fallback responder")
	case cfg.BaseURL == "" || cfg.Model == "":
		return nil, errors.New("openai responder: base_url and model are required")
	case cfg.Timeout <= 0:
		return nil, errors.New("openai responder: timeout must be positive")
	case cfg.MaxRetries < 0 || cfg.HistoryTokens <= 0:
		return nil, errors.New("openai responder: max_retries must not be negative and history_tokens must be positive")
	}
	client, secrets, err := openaiapi.NewClient("openai responder", cfg.BaseURL, cfg.APIKeyEnv, openaiapi.HTTPClient(in.HTTPClient, cfg.ConnectTimeout))
	if err != nil {
		return nil, err
	}
	o := &OpenAI{
		cfg: cfg, client: client, secrets: secrets, fallback: in.Fallback,
		log: in.Log, clock: in.Clock, tools: []openai.Tool{transferToolDef()}, handoff: in.Handoff,
		prompt: promptInput{
			Company: in.Knowledge.Company, Instructions: cfg.Instructions, Topics: in.Handoff.RestrictedTopics,
			Messages: in.Handoff.Messages, Collect: in.Handoff.Collect, Knowledge: in.Knowledge.Entries,
		},
		prompts: map[store.Channel]string{},
	}
	if o.log == nil {
		o.log = slog.New(slog.DiscardHandler)
	}
	if o.clock == nil {
		o.clock = wallClock{}
	}
	if _, omitted := systemPrompt(o.prompt); omitted > 0 {
		o.log.Warn("knowledge too large for the prompt; entries left out", "omitted", omitted,
			"entries", len(in.Knowledge.Entries), "limit_bytes", maxPromptKnowledge)
	}
	return o, nil
}

// Respond writes the AI's reply to req; see RespondStream.
func (o *OpenAI) Respond(ctx context.Context, req Request) (Reply, error) {
	return o.RespondStream(ctx, req, nil)
}

// RespondStream is Respond that also calls onSentence, if not nil, with
// each complete sentence of the reply as it arrives, so that speech can
// start before the model has finished. onSentence runs on the calling
// goroutine and holds up reading the stream while it runs. When the
// provider fails the fallback's reply is delivered the same way, after any
// sentences already delivered. The error is non-nil only when ctx ended
// (or the fallback failed too); then the reply must not be sent.
func (o *OpenAI) RespondStream(ctx context.Context, req Request, onSentence func(string)) (Reply, error) {
	if err := ctx.Err(); err != nil {
		return Reply{}, fmt.Errorf("openai responder: %w", err)
	}
	turnCtx, cancel := context.WithTimeout(ctx, o.cfg.Timeout)
	defer cancel()
	started := o.clock.Now()
	reply, err := o.complete(turnCtx, o.chatRequest(req), req, onSentence)
	if err == nil {
		return reply, nil
	}
	if ctx.Err() != nil {
		return Reply{}, fmt.Errorf("openai responder: %w", err)
	}
	o.log.Warn("AI provider failed; the fallback responder answers", "conversation_id", req.ConversationID,
		"channel", req.Channel, "model", o.cfg.Model, "elapsed", o.clock.Now().Sub(started), "error", err)
	reply, ferr := o.fallback.Respond(ctx, req)
	if ferr != nil {
		return Reply{}, fmt.Errorf("openai responder: %w; fallback: %w", err, ferr)
	}
	reply.Fallback = true
	if onSentence != nil {
		var s sentences
		s.feed(reply.Text, onSentence)
		s.flush(onSentence)
	}
	return reply, nil
}

// chatRequest is the API request for req.
func (o *OpenAI) chatRequest(req Request) openai.ChatCompletionRequest {
	return openai.ChatCompletionRequest{
		Model:         o.cfg.Model,
		Messages:      chatMessages(o.systemPrompt(req.Channel), req, o.cfg.HistoryTokens),
		Temperature:   o.cfg.Temperature,
		Tools:         o.tools,
		StreamOptions: &openai.StreamOptions{IncludeUsage: true},
	}
}

// systemPrompt is the prompt for a channel, written once per channel: the
// level, and so the transfer rules, may differ per channel.
func (o *OpenAI) systemPrompt(channel store.Channel) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	if p, ok := o.prompts[channel]; ok {
		return p
	}
	in := o.prompt
	in.Channel = channel
	level := o.handoff.Level
	if l, ok := o.handoff.Channels[string(channel)]; ok {
		level = l
	}
	in.Rules = handoff.RulesFor(level, o.handoff.Advanced)
	p, _ := systemPrompt(in)
	o.prompts[channel] = p
	return p
}

// complete runs the attempts of one turn. An attempt that fails before its
// stream delivered anything is retried if the failure is transient, after
// the provider's Retry-After or a backoff, unless the wait would pass the
// turn's deadline; once a stream has started, a failure ends the turn.
func (o *OpenAI) complete(ctx context.Context, creq openai.ChatCompletionRequest, req Request, onSentence func(string)) (Reply, error) {
	deadline := o.clock.Now().Add(o.cfg.Timeout)
	for attempt := 0; ; attempt++ {
		hint := &openaiapi.RetryHint{}
		reply, started, err := o.attempt(openaiapi.WithRetryHint(ctx, hint), creq, onSentence)
		if err == nil {
			return reply, nil
		}
		if started || ctx.Err() != nil || !openaiapi.Retryable(err) {
			return Reply{}, err
		}
		if attempt >= o.cfg.MaxRetries {
			return Reply{}, fmt.Errorf("%d attempts: %w", attempt+1, err)
		}
		wait := openaiapi.RetryWait(attempt, hint, o.clock.Now())
		if o.clock.Now().Add(wait).After(deadline) {
			return Reply{}, fmt.Errorf("retry in %v would pass the turn's deadline: %w", wait, err)
		}
		o.log.Debug("AI provider attempt failed; retrying", "conversation_id", req.ConversationID,
			"attempt", attempt+1, "status", openaiapi.StatusOf(err), "wait", wait, "error", err)
		if err := o.clock.Sleep(ctx, wait); err != nil {
			return Reply{}, fmt.Errorf("waiting to retry: %w", err)
		}
	}
}

// attempt makes one streamed request and assembles its reply; started
// reports whether any chunk had arrived before a failure.
func (o *OpenAI) attempt(ctx context.Context, creq openai.ChatCompletionRequest, onSentence func(string)) (Reply, bool, error) {
	stream, err := o.client.CreateChatCompletionStream(ctx, creq)
	if err != nil {
		return Reply{}, false, fmt.Errorf("chat completion: %w", o.secrets.Redact(err))
	}
	defer stream.Close()
	var r streamReply
	for {
		chunk, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Reply{}, r.started, fmt.Errorf("chat completion stream: %w", o.secrets.Redact(err))
		}
		r.add(chunk, onSentence)
	}
	r.text.flush(onSentence)
	reply, err := r.reply()
	if err != nil {
		return Reply{}, true, err
	}
	if r.usage != nil {
		o.log.Debug("AI reply", "model", o.cfg.Model, "prompt_tokens", r.usage.PromptTokens,
			"completion_tokens", r.usage.CompletionTokens, "transfer", reply.Transfer)
	}
	return reply, true, nil
}

// streamReply assembles a streamed reply: content deltas in order, and
// tool call deltas by their index, as the API interleaves them.
type streamReply struct {
	started bool
	text    sentences
	content strings.Builder
	calls   []*toolCallParts
	finish  openai.FinishReason
	usage   *openai.Usage
}

type toolCallParts struct {
	index int
	name  string
	args  strings.Builder
}

func (r *streamReply) add(chunk openai.ChatCompletionStreamResponse, onSentence func(string)) {
	r.started = true
	if chunk.Usage != nil {
		r.usage = chunk.Usage
	}
	for _, c := range chunk.Choices {
		if c.Index != 0 {
			continue // one choice is asked for
		}
		if c.Delta.Content != "" {
			r.content.WriteString(c.Delta.Content)
			r.text.feed(c.Delta.Content, onSentence)
		}
		for i, tc := range c.Delta.ToolCalls {
			index := i // servers that send whole calls may leave the index out
			if tc.Index != nil {
				index = *tc.Index
			}
			p := r.call(index)
			if p.name == "" {
				p.name = tc.Function.Name
			}
			p.args.WriteString(tc.Function.Arguments)
		}
		if c.FinishReason != "" {
			r.finish = c.FinishReason
		}
	}
}

func (r *streamReply) call(index int) *toolCallParts {
	for _, p := range r.calls {
		if p.index == index {
			return p
		}
	}
	p := &toolCallParts{index: index}
	r.calls = append(r.calls, p)
	return p
}

// errBadReply is wrapped by the errors for streams that ended without a
// usable reply.
var errBadReply = errors.New("unusable reply")

// reply is the assembled Reply. A stream cut before its finish reason (a
// dropped connection reads as a clean end) or with neither words nor a
// transfer is an error: a half sentence must not reach a customer.
func (r *streamReply) reply() (Reply, error) {
	if r.finish == "" {
		return Reply{}, fmt.Errorf("%w: the stream ended without a finish reason", errBadReply)
	}
	reply := Reply{Text: strings.TrimSpace(r.content.String())}
	for _, p := range r.calls {
		if p.name != transferTool || reply.Transfer {
			continue
		}
		reply.Transfer = true
		var args struct {
			Reason  string `json:"reason"`
			Summary string `json:"summary"`
		}
		// Arguments that are not valid JSON still carry the model's wish
		// to transfer; only the reason and summary are lost.
		if json.Unmarshal([]byte(p.args.String()), &args) == nil {
			if slices.Contains(transferReasons, args.Reason) {
				reply.TransferReason = args.Reason
			}
			reply.Summary = clip(oneLine(args.Summary), maxSummary)
		}
	}
	if reply.Text == "" && !reply.Transfer {
		return Reply{}, fmt.Errorf("%w: no text and no transfer (finish reason %s)", errBadReply, r.finish)
	}
	return reply, nil
}

// sentences cuts streamed text into sentences for onSentence.
type sentences struct{ pending string }

// feed adds text and delivers every sentence it completes.
func (s *sentences) feed(text string, onSentence func(string)) {
	if onSentence == nil {
		return
	}
	s.pending += text
	for {
		end := sentenceEnd(s.pending)
		if end < 0 {
			return
		}
		sentence := strings.TrimSpace(s.pending[:end])
		s.pending = s.pending[end:]
		if sentence != "" {
			onSentence(sentence)
		}
	}
}

// flush delivers what is left: the last sentence, which may lack its stop.
func (s *sentences) flush(onSentence func(string)) {
	rest := strings.TrimSpace(s.pending)
	s.pending = ""
	if onSentence != nil && rest != "" {
		onSentence(rest)
	}
}

// sentenceEnd returns where the first complete sentence of s ends, or -1.
// A sentence ends at a line break, or at . ! ? or … (and any closing quotes
// or brackets) followed by a space; so "3.5" and "example.com" do not end
// one, and a stop at the very end waits for the next delta to decide.
func sentenceEnd(s string) int {
	for i, r := range s {
		switch r {
		case '\n':
			return i + 1
		case '.', '!', '?', '…':
			j := i + utf8.RuneLen(r)
			for j < len(s) {
				c, n := utf8.DecodeRuneInString(s[j:])
				if !strings.ContainsRune(`"')]”’»`, c) {
					break
				}
				j += n
			}
			if j >= len(s) {
				return -1
			}
			if s[j] == ' ' || s[j] == '\t' || s[j] == '\n' {
				if r == '.' && abbreviation(s[:i]) {
					continue
				}
				return j
			}
		}
	}
	return -1
}

// abbreviation reports whether text ends with a word that a full stop
// follows without ending the sentence.
func abbreviation(text string) bool {
	word := text[strings.LastIndexAny(text, " \n\t(")+1:]
	switch strings.ToLower(word) {
	case "e.g", "i.e", "mr", "mrs", "ms", "dr", "vs", "approx":
		return true
	}
	return false
}

// RetryClock is the time the OpenAI responder's retries run on. Now must
// agree with the wall clock that context deadlines use; tests replace Sleep
// so that a Retry-After of seconds takes no wall time, and Now with it.
type RetryClock interface {
	Now() time.Time
	// Sleep waits for d, or until ctx ends and then returns its error.
	Sleep(ctx context.Context, d time.Duration) error
}

// wallClock is the RetryClock of a running gateway.
type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

func (wallClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
