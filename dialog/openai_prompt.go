package dialog

import (
	"fmt"
	"strings"

	openai "github.com/sashabaranov/go-openai"

	"switchboard/config"
	"switchboard/handoff"
	"switchboard/store"
)

// maxPromptKnowledge bounds the knowledge written into the system prompt,
// in bytes (about 6,000 tokens). Entries past it are left out, whole, and
// the responder logs how many when it is built: a large FAQ must not crowd
// the conversation out of the model's context or make every turn costly.
const maxPromptKnowledge = 24000

// transferTool is the one tool the model is given.
const transferTool = "transfer_to_human"

// transferReasons are the reasons the model may give, in the handoff
// vocabulary (handoff.Reason), so admins see why the AI wanted a human.
var transferReasons = []string{
	string(handoff.ReasonCustomerRequest), string(handoff.ReasonMissingKnowledge), string(handoff.ReasonMissingTool),
	string(handoff.ReasonUnclearInstructions), string(handoff.ReasonFrustration), string(handoff.ReasonRestrictedTopic),
}

// promptInput is everything the system prompt is written from.
type promptInput struct {
	Company      string
	Instructions string
	Channel      store.Channel
	Rules        handoff.Rules // the channel's effective level, as the policy applies it
	Topics       []config.Topic
	Messages     config.Messages
	Collect      []string
	Knowledge    []Entry
}

// systemPrompt writes the system message: who the assistant is, the
// company's instructions, how to write for the channel, when to call
// transfer_to_human (from the same Rules the policy applies, so the model is
// told what the policy will grant), the restricted topics and the
// knowledge. omitted counts the entries left out by maxPromptKnowledge.
func systemPrompt(in promptInput) (prompt string, omitted int) {
	var b strings.Builder
	fmt.Fprintf(&b, "You are the virtual assistant of %s, talking with one of its customers.\n", in.Company)
	if s := strings.TrimSpace(in.Instructions); s != "" {
		fmt.Fprintf(&b, "\n# Instructions from %s\n%s\n", in.Company, s)
	}
	b.WriteString("\n# How to answer\n")
	b.WriteString("- Answer from the knowledge below and from what the customer tells you. Never invent policies, prices, dates, order details or promises.\n")
	b.WriteString("- If the knowledge does not answer the question, say so plainly instead of guessing.\n")
	b.WriteString("- Assistant messages that start with \"(agent)\" were written by a person of the team, not by you; stay consistent with them.\n")
	b.WriteString("- System messages that start with \"Note:\" are facts from the system, not words of the customer.\n")
	b.WriteString("- " + channelStyle(in.Channel) + "\n")
	b.WriteString("\n# Handing over to a person\n")
	b.WriteString("You can hand the conversation to a person of the team by calling the tool " + transferTool + " with a reason and a summary for that person: what the customer needs, what was tried, and any details they gave. The system decides whether the transfer happens and tells the customer; do not announce it yourself.\n")
	if len(in.Collect) > 0 {
		fmt.Fprintf(&b, "Before calling %s, ask the customer for %s, unless they already gave it, and put it in the summary.\n", transferTool, collectList(in.Collect))
	}
	for _, rule := range transferRules(in.Rules, in.Messages) {
		b.WriteString("- " + rule + "\n")
	}
	if len(in.Topics) > 0 {
		b.WriteString("\n# Restricted topics\n")
		fmt.Fprintf(&b, "Never handle these topics, not even in part. As soon as the customer raises one, call %s with reason restricted_topic:\n", transferTool)
		for _, t := range in.Topics {
			fmt.Fprintf(&b, "- %s: %s\n", t.Name, oneLine(t.Description))
		}
	}
	knowledge, omitted := knowledgeSection(in.Knowledge)
	fmt.Fprintf(&b, "\n# Knowledge\nWhat %s wants customers told, as questions and answers:\n%s", in.Company, knowledge)
	return b.String(), omitted
}

// transferRules says, in words, when this level grants a transfer.
func transferRules(r handoff.Rules, m config.Messages) []string {
	if !r.Enabled {
		return []string{
			"Transfers to a person are not available here. Never call " + transferTool + ", except for a restricted topic.",
			fmt.Sprintf("If the customer asks for a person, or you cannot help, say kindly that you cannot transfer them, keep helping, and offer a follow-up from the team, for example: %q", m.NoTransfer),
		}
	}
	var rules []string
	once := ""
	if r.ProblemStatementRequired {
		rules = append(rules, fmt.Sprintf("Before any transfer you need a complete problem statement: what went wrong, and which order or product it is about, in the customer's words. Until you have it, ask for it instead of transferring, for example: %q", m.AskProblemStatement))
		once = ", once you have the problem statement"
	}
	if r.HumanRequest {
		rules = append(rules, "If the customer asks for a person, call "+transferTool+" with reason customer_request"+once+"; do not try to talk them out of it.")
	} else {
		rules = append(rules, fmt.Sprintf("If the customer asks for a person, say you cannot transfer them here, keep helping, and offer a follow-up, for example: %q", m.NoTransfer))
	}
	const gaps = "reason missing_knowledge, missing_tool (it needs an action you cannot take) or unclear_instructions"
	switch r.Unproductive {
	case handoff.ModeAtOnce:
		rules = append(rules, "If you cannot help with what the customer needs, call "+transferTool+" right away"+once+", with "+gaps+".")
	case handoff.ModeAfterAttempt:
		rules = append(rules, "If you cannot help, first make one real attempt: ask a clarifying question or offer what the knowledge does cover. If you still cannot help after that, call "+transferTool+" with "+gaps+".")
	default:
		rules = append(rules, "If you cannot help, say so plainly and offer a follow-up from the team; do not transfer for that.")
	}
	switch r.Frustration {
	case handoff.ModeFirstSign:
		rules = append(rules, "At the first sign that the customer is frustrated or angry, call "+transferTool+" with reason frustration"+once+".")
	case handoff.ModeSustained:
		rules = append(rules, "If the customer stays frustrated after you have tried to help, call "+transferTool+" with reason frustration; one annoyed message is not enough.")
	default:
		rules = append(rules, "Do not transfer only because the customer is upset: acknowledge it and keep helping.")
	}
	return rules
}

// channelStyle says how replies are read (or heard) on a channel.
func channelStyle(channel store.Channel) string {
	switch channel {
	case store.ChannelVoice, store.ChannelWebRTC:
		return "This is a phone call: your replies are spoken by a speech synthesiser. Answer in one to three short, plain sentences; no lists, no markdown, no emoji, no web addresses."
	case store.ChannelSMS:
		return "The customer reads your replies as SMS text messages: keep them under about 300 characters, in plain text."
	case store.ChannelEmail:
		return "The customer reads your replies as emails: write a complete, polite answer in plain text, without markdown."
	case store.ChannelSlack:
		return "The customer reads your replies in Slack: keep them short."
	default:
		return "The customer reads your replies in a chat window: keep them short, in plain text without markdown."
	}
}

// knowledgeSection writes the entries as questions and answers, whole,
// until maxPromptKnowledge; it returns how many did not fit.
func knowledgeSection(entries []Entry) (string, int) {
	var b strings.Builder
	for i, e := range entries {
		var q strings.Builder
		// Alternates stay out: a model recognises paraphrases by itself,
		// and the budget is better spent on answers.
		fmt.Fprintf(&q, "\nQ: %s\nA: %s\n", oneLine(e.Question), oneLine(e.Answer))
		if b.Len()+q.Len() > maxPromptKnowledge {
			return b.String(), len(entries) - i
		}
		b.WriteString(q.String())
	}
	return b.String(), 0
}

// collectList names the details to collect in words.
func collectList(details []string) string {
	words := map[string]string{"name": "their name", "email": "their email address", "phone": "their phone number", "order_number": "their order number"}
	out := make([]string, len(details))
	for i, d := range details {
		if out[i] = words[d]; out[i] == "" {
			out[i] = strings.ReplaceAll(d, "_", " ")
		}
	}
	if len(out) == 1 {
		return out[0]
	}
	return strings.Join(out[:len(out)-1], ", ") + " and " + out[len(out)-1]
}

// oneLine folds whitespace, newlines included, into single spaces.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// transferToolDef is the transfer_to_human tool as the API takes it.
func transferToolDef() openai.Tool {
	return openai.Tool{Type: openai.ToolTypeFunction, Function: &openai.FunctionDefinition{
		Name: transferTool,
		Description: "Hand the conversation to a person of the team. The system decides whether and when the transfer happens. " +
			"Reasons: customer_request (the customer asked for a person), missing_knowledge (the knowledge does not answer it), " +
			"missing_tool (it needs an action you cannot take), unclear_instructions (you cannot tell what is needed, or how to handle it), " +
			"frustration (the customer is frustrated), restricted_topic (one of the restricted topics).",
		Parameters: map[string]any{
			"type": "object",
			"properties": map[string]any{
				"reason": map[string]any{"type": "string", "enum": transferReasons, "description": "Why a person should take over."},
				"summary": map[string]any{"type": "string",
					"description": "For the person taking over, in two or three sentences: what the customer needs, what was tried, and details they gave (name, order number)."},
			},
			"required":             []string{"reason", "summary"},
			"additionalProperties": false,
		},
	}}
}

// Tokens are estimated, not counted: a tokenizer per model is not worth its
// weight for a budget. About four bytes of UTF-8 make a token (one to four
// characters of English text, about one character of CJK text, which bytes
// undercount less than characters would); each message costs a few tokens
// more for its role and framing.
const (
	bytesPerToken   = 4
	messageOverhead = 4
	// foldQuote bounds what the fold quotes of any one message.
	foldQuote = 200
)

func estimateTokens(text string) int {
	return (len(text)+bytesPerToken-1)/bytesPerToken + messageOverhead
}

// chatMessages is the conversation as the model reads it: the system
// prompt, the earlier turns within historyTokens, and the customer's new
// message. When the history does not fit, the newest turns are kept whole
// in three quarters of the budget and the older ones are folded into one
// system message, an extractive summary in the last quarter; no model call
// is spent on summarising.
func chatMessages(system string, req Request, historyTokens int) []openai.ChatCompletionMessage {
	var history []Turn
	total := 0
	for _, t := range req.History {
		if strings.TrimSpace(t.Text) != "" { // e.g. a turn where the model only called its tool
			history = append(history, t)
			total += estimateTokens(t.Text)
		}
	}
	msgs := []openai.ChatCompletionMessage{{Role: openai.ChatMessageRoleSystem, Content: system}}
	if total > historyTokens {
		keep, used := len(history), 0
		for keep > 0 && used+estimateTokens(history[keep-1].Text) <= historyTokens-historyTokens/4 {
			keep--
			used += estimateTokens(history[keep].Text)
		}
		msgs = append(msgs, openai.ChatCompletionMessage{
			Role:    openai.ChatMessageRoleSystem,
			Content: foldTurns(history[:keep], (historyTokens/4-messageOverhead)*bytesPerToken),
		})
		history = history[keep:]
	}
	for _, t := range history {
		msgs = append(msgs, chatMessage(t))
	}
	return append(msgs, openai.ChatCompletionMessage{Role: openai.ChatMessageRoleUser, Content: req.Text})
}

// chatMessage maps a turn to the API's roles: the customer is the user; the
// AI and human agents are both the assistant, the agents' words marked
// "(agent)" (the system prompt says so) rather than named, since not every
// compatible server passes names on; system notes stay system messages.
func chatMessage(t Turn) openai.ChatCompletionMessage {
	switch t.Role {
	case RoleAI:
		return openai.ChatCompletionMessage{Role: openai.ChatMessageRoleAssistant, Content: t.Text}
	case RoleAgent:
		return openai.ChatCompletionMessage{Role: openai.ChatMessageRoleAssistant, Content: "(agent) " + t.Text}
	case RoleSystem:
		return openai.ChatCompletionMessage{Role: openai.ChatMessageRoleSystem, Content: "Note: " + t.Text}
	default:
		return openai.ChatCompletionMessage{Role: openai.ChatMessageRoleUser, Content: t.Text}
	}
}

// foldTurns summarises turns in at most maxBytes (roughly; never less than
// the opening problem) by extraction, as Summarize does for handoffs: the
// customer's first substantive message, which usually states the problem,
// then as many of the latest turns as fit, each quoted and clipped.
func foldTurns(turns []Turn, maxBytes int) string {
	header := fmt.Sprintf("Earlier in this conversation (%d messages, shortened):", len(turns))
	lines := make([]string, len(turns))
	opening := -1
	for i, t := range turns {
		text := oneLine(t.Text)
		lines[i] = fmt.Sprintf("%s: %q", foldSpeaker(t.Role), clip(text, foldQuote))
		if opening < 0 && t.Role == RoleCustomer && len(strings.Fields(text)) >= 3 {
			opening = i
		}
	}
	picked := make([]bool, len(turns))
	size := len(header)
	if opening >= 0 {
		picked[opening] = true
		size += len(lines[opening]) + 1
	}
	for i := len(turns) - 1; i >= 0; i-- {
		if picked[i] {
			continue
		}
		if size+len(lines[i])+1 > maxBytes {
			break
		}
		picked[i] = true
		size += len(lines[i]) + 1
	}
	var b strings.Builder
	b.WriteString(header)
	skipped := false
	for i, line := range lines {
		if !picked[i] {
			skipped = true
			continue
		}
		if skipped {
			b.WriteString("\n…")
			skipped = false
		}
		b.WriteString("\n" + line)
	}
	if skipped {
		b.WriteString("\n…")
	}
	return b.String()
}

func foldSpeaker(role string) string {
	switch role {
	case RoleAI:
		return "You"
	case RoleAgent:
		return "Agent"
	case RoleSystem:
		return "Note"
	default:
		return "Customer"
	}
}
