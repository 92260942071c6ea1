package dialog

import (
	"context"
	"fmt"
	"strings"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"switchboard/store"
)

// SummaryRequest is a conversation being handed to humans.
type SummaryRequest struct {
	ConversationID string
	Channel        store.Channel
	Turns          []Turn // the whole conversation, oldest first
	Why            string // why it is handed over, in words
}

// HandoffSummarizer writes the summary a human reads when a conversation is
// handed over. A responder backed by a model is one; the conductor asks it
// when the model did not already give a summary with its transfer tool, and
// uses the extractive Summarize when it fails.
type HandoffSummarizer interface {
	HandoffSummary(ctx context.Context, req SummaryRequest) (string, error)
}

var _ HandoffSummarizer = (*OpenAI)(nil)

const summaryInstructions = `You write the note a contact-center employee reads before taking over a conversation from the AI assistant. It is handed over because %s.
Write at most three short sentences of plain text: what the customer wants, the facts they gave (names, order or account numbers, dates), what was already tried or promised, and their mood if it matters. No greeting, no advice to the employee, nothing that was not said.`

// summaryMaxTokens bounds the model's note; maxSummary clips it again.
const summaryMaxTokens = 200

// maxSummaryWait bounds the summary call (or the turn's deadline, if
// shorter): the customer hears the handoff notice, and a call's transfer
// starts, only once the handoff is recorded with its summary.
const maxSummaryWait = 3 * time.Second

// HandoffSummary asks the model for the note, in one request without
// retries: the extractive summary is there if it fails, and the handoff
// must not wait on a struggling provider.
func (o *OpenAI) HandoffSummary(ctx context.Context, req SummaryRequest) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, min(o.cfg.Timeout, maxSummaryWait))
	defer cancel()
	resp, err := o.client.CreateChatCompletion(ctx, openai.ChatCompletionRequest{
		Model:     o.cfg.Model,
		MaxTokens: summaryMaxTokens,
		Messages: []openai.ChatCompletionMessage{
			{Role: openai.ChatMessageRoleSystem, Content: fmt.Sprintf(summaryInstructions, req.Why)},
			{Role: openai.ChatMessageRoleUser, Content: summaryTranscript(req.Turns, o.cfg.HistoryTokens)},
		},
	})
	if err != nil {
		return "", fmt.Errorf("handoff summary: %w", o.secrets.Redact(err))
	}
	if len(resp.Choices) == 0 {
		return "", fmt.Errorf("handoff summary: %w: no choices", errBadReply)
	}
	text := clip(oneLine(resp.Choices[0].Message.Content), maxSummary)
	if text == "" {
		return "", fmt.Errorf("handoff summary: %w: empty", errBadReply)
	}
	return text, nil
}

// summaryTranscript is the conversation as one text for the model, folded
// like the chat history when it is over the token budget.
func summaryTranscript(turns []Turn, budget int) string {
	var b strings.Builder
	b.WriteString("The conversation:")
	for _, t := range turns {
		fmt.Fprintf(&b, "\n%s: %s", summarySpeaker(t.Role), oneLine(t.Text))
	}
	if budget <= 0 || estimateTokens(b.String()) <= budget {
		return b.String()
	}
	return foldTurns(turns, budget*bytesPerToken)
}

func summarySpeaker(role string) string {
	switch role {
	case RoleAI:
		return "Assistant"
	case RoleAgent:
		return "Agent"
	case RoleSystem:
		return "Note"
	default:
		return "Customer"
	}
}
