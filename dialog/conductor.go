package dialog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"switchboard/config"
	"switchboard/events"
	"switchboard/handoff"
	"switchboard/store"
)

// Live is the part of the configuration a turn runs on. The gateway swaps
// it on reload; a turn takes one Live at its start and keeps it.
type Live struct {
	Policy    *handoff.Policy
	Responder Responder
	Handoff   config.Handoff
	// Masker hides personal data (handoff.pii) in the summary stored with
	// a handoff, which goes out in SIP headers and posts; nil masks nothing.
	Masker *handoff.Masker
	// AgentsOnline says whether any agent is at the desk; nil means always.
	// A handoff to the console while nobody is there follows
	// Handoff.WhenNoAgent.
	AgentsOnline func() bool
}

// Inbound is a customer's message as a channel adapter hands it over.
type Inbound struct {
	ConversationID store.ConversationID
	Text           string
	// IdempotencyKey identifies the message at its source (an SMS SID, an
	// email Message-ID, a client-generated id) so a redelivery is stored
	// once and answered once.
	IdempotencyKey string
	// Explicit: the customer asked for a human without words (DTMF 0 on a
	// call). Text then says what happened, for the transcript.
	Explicit bool
	// OnSentence, when set and the responder streams, receives the AI's
	// reply sentence by sentence while it is written (voice speaks them at
	// once). Outcome.Streamed then names the reply it delivered.
	OnSentence func(string)
	// Interrupt, when set, is closed when the customer talks over the
	// reply (barge-in on a call). The responder's stream is cancelled; the
	// sentences OnSentence took before that are stored as the AI's reply,
	// cut short, and the turn ends there. Only the reply is cancelled:
	// what the turn stores or hands off is not, so a conversation is never
	// left waiting for humans with no transfer under way.
	Interrupt <-chan struct{}
	// Heard, when set, says how many of the sentences handed to
	// OnSentence the customer began to hear; an interrupted reply is
	// stored only that far (a call queues sentences ahead of its voice).
	Heard func() int
}

// Outcome is what one customer turn led to.
type Outcome struct {
	// Conversation is the conversation as the turn found it, before any
	// handoff this turn made.
	Conversation store.Conversation
	Message      store.Message   // the customer's message as stored
	Duplicate    bool            // it had been stored before: nothing was done again
	Replies      []store.Message // what the AI said, in order; none once humans have it
	Decision     handoff.Decision
	Handoff      *store.Handoff // recorded handoff or follow-up, if any
	// Streamed is the id of the reply already delivered through
	// Inbound.OnSentence (0 if none): the channel must not send it again.
	Streamed int64
	// Interrupted: the customer cut the reply short (Inbound.Interrupt);
	// Streamed is then what of it was said, 0 if nothing was.
	Interrupted bool
}

// Conductor runs the turns of every conversation: it stores each customer
// message before reacting to it, asks the handoff policy, and then lets the
// responder answer or hands the conversation to humans. Turns of one
// conversation run one at a time, across instances too: each holds the
// store's lock on the conversation.
type Conductor struct {
	store   store.Store
	live    func() Live
	metrics *Metrics
	now     func() time.Time
	log     *slog.Logger
	bus     events.Bus // nil: nobody listens
	// onHandoff is told of each handoff a turn records; nil: nobody is.
	onHandoff HandoffHook
}

// HandoffHook is told of a handoff (or follow-up) h that a turn recorded in
// conversation c (as the turn found it, before the handoff). It runs inside
// the turn, right after the store committed h and while the turn still holds
// the conversation, so what it records (an outbox item) is in place before
// the customer hears of the handoff. Its ctx does not end with the
// customer's request: the handoff is recorded, its consequences must be too.
type HandoffHook func(ctx context.Context, c store.Conversation, h store.Handoff)

// ConductorOption sets an optional part of a Conductor.
type ConductorOption func(*Conductor)

// WithBus publishes every message and handoff a turn stores on bus, after
// the store committed it.
func WithBus(b events.Bus) ConductorOption { return func(c *Conductor) { c.bus = b } }

// WithHandoffHook calls hook with every handoff and follow-up a turn
// records.
func WithHandoffHook(hook HandoffHook) ConductorOption {
	return func(c *Conductor) { c.onHandoff = hook }
}

// NewConductor wires a Conductor. live is called at the start of each turn.
func NewConductor(st store.Store, live func() Live, m *Metrics, now func() time.Time, log *slog.Logger, opts ...ConductorOption) *Conductor {
	c := &Conductor{store: st, live: live, metrics: m, now: now, log: log}
	for _, o := range opts {
		o(c)
	}
	return c
}

// publish tells the bus; a failure is logged, never fatal to the turn:
// streams catch up from the store.
func (c *Conductor) publish(ctx context.Context, e events.Event) {
	if c.bus == nil {
		return
	}
	if err := c.bus.Publish(context.WithoutCancel(ctx), e); err != nil {
		c.log.Warn("event not published", "kind", e.Kind, "conversation_id", e.ConversationID, "error", err)
	}
}

// CustomerMessage handles one inbound customer message.
func (c *Conductor) CustomerMessage(ctx context.Context, in Inbound) (Outcome, error) {
	unlock, err := c.store.LockConversation(ctx, in.ConversationID)
	if err != nil {
		return Outcome{}, fmt.Errorf("customer message: %w", err)
	}
	defer unlock()
	conv, err := c.store.Conversation(ctx, in.ConversationID)
	if err != nil {
		return Outcome{}, fmt.Errorf("customer message: %w", err)
	}
	msg, created, err := c.store.AppendMessage(ctx, store.Message{
		ConversationID: conv.ID, Role: store.RoleCustomer, Text: in.Text, IdempotencyKey: in.IdempotencyKey,
	})
	if err != nil {
		return Outcome{}, fmt.Errorf("customer message: %w", err)
	}
	out := Outcome{Conversation: conv, Message: msg, Duplicate: !created}
	c.metrics.messages.WithLabelValues(string(conv.Channel), string(store.RoleCustomer)).Inc()
	if created {
		c.publish(ctx, events.Event{Kind: events.Message, ConversationID: conv.ID, State: conv.State, MessageID: msg.ID})
	}
	if !created || conv.State != store.StateAI {
		// A redelivery was handled the first time; and once humans have
		// the conversation the AI says nothing more in it.
		return out, nil
	}
	t := &turn{c: c, live: c.live(), conv: conv, state: conv.State, out: &out, explicit: in.Explicit, onSentence: in.OnSentence,
		interrupt: in.Interrupt, heard: in.Heard}
	if err := t.run(ctx); err != nil {
		return out, fmt.Errorf("conversation %s: %w", conv.ID, err)
	}
	return out, nil
}

// turn is one customer turn of one conversation.
type turn struct {
	c       *Conductor
	live    Live
	conv    store.Conversation
	state   store.State // the conversation's state as the turn left it so far
	history []store.Message
	out     *Outcome
	// explicit marks this turn's customer message as a request for a human
	// made without words; the store does not keep that flag.
	explicit bool
	// aiTransfer is the AI reply of this turn in which the model asked to
	// transfer (its id once stored), with the model's summary for the human.
	aiTransfer   bool
	aiTransferID int64
	aiSummary    string
	aiReason     string
	// onSentence streams the reply (Inbound.OnSentence); streamed says the
	// responder used it.
	onSentence func(string)
	streamed   bool
	// interrupt is Inbound.Interrupt; interrupted says it cut the reply.
	interrupt   <-chan struct{}
	interrupted bool
	heard       func() int // Inbound.Heard
}

func (t *turn) run(ctx context.Context) error {
	if err := t.loadHistory(ctx); err != nil {
		return err
	}
	d := t.decide()
	t.out.Decision = d
	switch {
	case d.Handoff || d.FollowUp:
		return t.handOff(ctx, d)
	case d.AskForProblemStatement:
		return t.say(ctx, store.Message{Text: t.live.Handoff.Messages.AskProblemStatement})
	}
	reply, err := t.respond(ctx)
	if err != nil {
		return err
	}
	if t.interrupted {
		// The customer talked over the reply: what they may have heard
		// of it is kept, and their next words start the next turn.
		t.out.Interrupted = true
		if reply.Text == "" {
			return nil
		}
		if err := t.say(ctx, reply); err != nil {
			return err
		}
		t.out.Streamed = t.history[len(t.history)-1].ID
		return nil
	}
	if err := t.say(ctx, reply); err != nil {
		return err
	}
	if t.aiTransfer {
		t.aiTransferID = t.history[len(t.history)-1].ID
	}
	if t.streamed {
		t.out.Streamed = t.history[len(t.history)-1].ID
	}
	// The AI's own turn can hand off too: it said it could not help, or
	// the model asked to transfer. The policy decides whether that is
	// allowed at this level, not the model.
	if d = t.decide(); d.Trigger != handoff.TriggerNone {
		t.out.Decision = d
		if d.Handoff || d.FollowUp || d.AskForProblemStatement {
			return t.afterAITurn(ctx, d)
		}
	}
	if reply.Text == "" {
		// The model only asked to transfer and the level refused it: the
		// customer must not be left without an answer.
		return t.say(ctx, store.Message{Text: t.live.Handoff.Messages.NoTransfer})
	}
	return nil
}

func (t *turn) afterAITurn(ctx context.Context, d handoff.Decision) error {
	if d.Handoff || d.FollowUp {
		return t.handOff(ctx, d)
	}
	return t.say(ctx, store.Message{Text: t.live.Handoff.Messages.AskProblemStatement})
}

func (t *turn) loadHistory(ctx context.Context) error {
	msgs, err := t.c.store.Messages(ctx, t.conv.ID)
	if err != nil {
		return fmt.Errorf("load history: %w", err)
	}
	t.history = msgs
	return nil
}

func (t *turn) decide() handoff.Decision {
	msgs := make([]handoff.Message, 0, len(t.history))
	for _, m := range t.history {
		msgs = append(msgs, handoff.Message{Role: m.Role, Text: m.Text, Unresolved: m.Unresolved, Gap: m.Gap,
			Explicit: t.explicit && m.ID == t.out.Message.ID})
		if t.aiTransfer && m.ID == t.aiTransferID {
			msgs[len(msgs)-1].Transfer, msgs[len(msgs)-1].TransferReason = true, t.aiReason
		}
	}
	return t.live.Policy.Decide(handoff.Input{Channel: string(t.conv.Channel), Messages: msgs, Now: t.c.now()})
}

// respond asks the responder for the AI's reply. A responder that fails is
// not hidden: the turn is stored as unresolved and the customer is told.
func (t *turn) respond(ctx context.Context) (store.Message, error) {
	// The customer's last message is the question; notices stored after
	// it (an agent handing the conversation back) are not.
	last := len(t.history) - 1
	for last > 0 && t.history[last].Role == store.RoleSystem {
		last--
	}
	req := Request{ConversationID: string(t.conv.ID), Channel: t.conv.Channel, Text: t.history[last].Text}
	for _, m := range t.history[:last] {
		req.History = append(req.History, Turn{Role: string(m.Role), Text: m.Text})
	}
	rctx, stop := t.replyContext(ctx)
	defer stop()
	var (
		reply Reply
		err   error
		said  []string // sentences handed to the channel so far
	)
	if sr, ok := t.live.Responder.(StreamResponder); ok && t.onSentence != nil {
		reply, err = sr.RespondStream(rctx, req, func(s string) {
			// The channel may hold a sentence back (a call waits a moment
			// in case the caller goes on); one it let go only because the
			// customer interrupted was never said.
			t.onSentence(s)
			if !t.wasInterrupted() {
				said = append(said, s)
			}
		})
		t.streamed = err == nil
	} else {
		reply, err = t.live.Responder.Respond(rctx, req)
	}
	if ctx.Err() != nil && err != nil {
		return store.Message{}, fmt.Errorf("respond: %w", err)
	}
	if t.wasInterrupted() {
		// Whether the responder noticed or had just finished, what the
		// customer heard is what was said.
		t.interrupted = true
		if t.heard != nil {
			said = said[:min(len(said), max(t.heard(), 0))]
		}
		t.c.metrics.interrupted.WithLabelValues(string(t.conv.Channel)).Inc()
		t.c.log.Info("reply interrupted", "conversation_id", t.conv.ID, "sentences_said", len(said))
		return store.Message{Text: strings.Join(said, " ")}, nil
	}
	if err != nil {
		t.c.log.Error("responder failed", "conversation_id", t.conv.ID, "error", err)
		t.c.metrics.responderErrors.Inc()
		reply = Reply{Text: "I'm sorry, I couldn't look that up just now.", Unresolved: true, Gap: GapMissingKnowledge}
	}
	t.c.metrics.aiTurns.WithLabelValues(string(t.conv.Channel), fmt.Sprint(!reply.Unresolved)).Inc()
	if reply.Fallback {
		t.c.metrics.fallbacks.Inc()
	}
	msg := store.Message{Text: reply.Text, Unresolved: reply.Unresolved, Gap: reply.Gap}
	if reply.Transfer {
		t.aiTransfer, t.aiSummary, t.aiReason = true, reply.Summary, reply.TransferReason
		switch reply.TransferReason {
		case GapMissingKnowledge, GapMissingTool, GapUnclearInstructions:
			msg.Gap = reply.TransferReason
		}
	}
	return msg, nil
}

// wasInterrupted reports whether the customer has interrupted the reply.
func (t *turn) wasInterrupted() bool {
	select {
	case <-t.interrupt:
		return true
	default:
		return false
	}
}

// replyContext is ctx, also cancelled when the customer interrupts the
// reply; stop releases it.
func (t *turn) replyContext(ctx context.Context) (context.Context, context.CancelFunc) {
	rctx, cancel := context.WithCancel(ctx)
	if t.interrupt == nil {
		return rctx, cancel
	}
	go func() {
		select {
		case <-t.interrupt:
			cancel()
		case <-rctx.Done():
		}
	}()
	return rctx, cancel
}

// say stores an AI message; it is in the conversation before any channel
// sends it.
func (t *turn) say(ctx context.Context, m store.Message) error {
	m.ConversationID, m.Role = t.conv.ID, store.RoleAI
	stored, _, err := t.c.store.AppendMessage(ctx, m)
	if err != nil {
		return fmt.Errorf("store AI message: %w", err)
	}
	t.history = append(t.history, stored)
	t.c.publish(ctx, events.Event{Kind: events.Message, ConversationID: t.conv.ID, State: t.state, MessageID: stored.ID})
	if stored.Text != "" { // a model that only called its transfer tool said nothing
		t.out.Replies = append(t.out.Replies, stored)
	}
	t.c.metrics.messages.WithLabelValues(string(t.conv.Channel), string(store.RoleAI)).Inc()
	return nil
}

// handOff records the handoff (or, when there is no live transfer, the
// follow-up), tells the customer, and counts it by trigger and reason.
func (t *turn) handOff(ctx context.Context, d handoff.Decision) error {
	noAgent := d.Handoff && t.toConsole() && t.live.AgentsOnline != nil && !t.live.AgentsOnline()
	if noAgent && t.live.Handoff.WhenNoAgent == "follow_up" {
		d.Handoff, d.FollowUp = false, true
	}
	h := store.Handoff{
		ConversationID: t.conv.ID, Trigger: string(d.Trigger), Reason: string(d.Reason), Topic: d.Topic,
		Summary: t.summary(ctx, d), Target: t.target(), Sentiment: d.Sentiment,
	}
	if !d.Handoff {
		h.Status = store.HandoffFollowUp
	}
	stored, err := t.c.store.RequestHandoff(ctx, h)
	if errors.Is(err, store.ErrWrongState) {
		return nil // an agent or another turn got there first; nothing to add
	}
	if err != nil {
		return fmt.Errorf("record handoff: %w", err)
	}
	t.out.Handoff = &stored
	if t.c.onHandoff != nil {
		t.c.onHandoff(context.WithoutCancel(ctx), t.conv, stored)
	}
	if stored.Status != store.HandoffFollowUp {
		t.state = store.StatePendingHuman
	}
	t.c.metrics.observeHandoff(string(t.conv.Channel), d)
	t.c.log.Info("handoff", "conversation_id", t.conv.ID, "channel", t.conv.Channel, "trigger", d.Trigger,
		"reason", d.Reason, "topic", d.Topic, "status", stored.Status)
	notice := t.notice(d)
	if noAgent {
		notice = t.live.Handoff.Messages.NoAgent
		t.c.log.Info("handoff while no agent is online", "conversation_id", t.conv.ID, "when_no_agent", t.live.Handoff.WhenNoAgent)
	}
	if err := t.say(ctx, store.Message{Text: notice}); err != nil {
		return err
	}
	// After the notice, so that the event can name what the customer was
	// told (MessageID).
	t.c.publish(ctx, events.Event{Kind: events.Handoff, ConversationID: t.conv.ID, State: t.state, HandoffID: stored.ID,
		MessageID: t.history[len(t.history)-1].ID})
	return nil
}

// toConsole says whether this conversation's handoffs go to the agents at
// the desk (a console target), rather than to a phone line.
func (t *turn) toConsole() bool {
	target, ok := t.live.Handoff.Targets[t.target()]
	return !ok || target.Kind == "console"
}

// summary is the human's summary of the conversation: the model's own from
// its transfer tool, else one the model is asked for, else the extractive
// one. It leaves the store with the handoff (SIP headers, posts), so it is
// masked; the transcript keeps what the customer said.
func (t *turn) summary(ctx context.Context, d handoff.Decision) string {
	mask := t.live.Masker
	if t.aiSummary != "" {
		return mask.Mask(t.aiSummary)
	}
	// Masked before Summarize clips the quotes: a cut card would not be
	// recognised as one.
	extractive := Summarize(maskTexts(t.history, mask), d)
	if s, ok := t.live.Responder.(HandoffSummarizer); ok {
		return mask.Mask(t.modelSummary(ctx, s, d, extractive))
	}
	return extractive
}

// maskTexts returns copies of ms with their texts masked.
func maskTexts(ms []store.Message, m *handoff.Masker) []store.Message {
	if m == nil {
		return ms
	}
	out := make([]store.Message, len(ms))
	for i, msg := range ms {
		msg.Text = m.Mask(msg.Text)
		out[i] = msg
	}
	return out
}

// modelSummary asks the model for the human's summary; on failure the
// extractive one stands.
func (t *turn) modelSummary(ctx context.Context, s HandoffSummarizer, d handoff.Decision, extractive string) string {
	req := SummaryRequest{ConversationID: string(t.conv.ID), Channel: t.conv.Channel, Why: why(d)}
	for _, m := range t.history {
		req.Turns = append(req.Turns, Turn{Role: string(m.Role), Text: m.Text})
	}
	text, err := s.HandoffSummary(ctx, req)
	if err != nil {
		t.c.log.Warn("model summary failed; the extractive one goes with the handoff", "conversation_id", t.conv.ID, "error", err)
		t.c.metrics.summaries.WithLabelValues("extractive").Inc()
		return extractive
	}
	t.c.metrics.summaries.WithLabelValues("model").Inc()
	return text
}

// why says in words why a conversation is handed over, for the model
// writing the summary.
func why(d handoff.Decision) string {
	switch d.Reason {
	case handoff.ReasonCustomerRequest:
		return "the customer asked for a person"
	case handoff.ReasonRestrictedTopic:
		if d.Topic != "" {
			return fmt.Sprintf("its topic (%s) is one only staff handle", d.Topic)
		}
		return "its topic is one only staff handle"
	case handoff.ReasonFrustration:
		return "the customer is frustrated"
	case handoff.ReasonUnproductive:
		return "several turns went by without the assistant helping"
	case handoff.ReasonMissingKnowledge:
		return "the assistant lacked the knowledge to answer"
	case handoff.ReasonMissingTool:
		return "the assistant cannot do what is needed"
	case handoff.ReasonUnclearInstructions:
		return "the assistant's instructions did not cover it"
	}
	return "the assistant could not continue"
}

// notice is what the customer is told about the handoff.
func (t *turn) notice(d handoff.Decision) string {
	m := t.live.Handoff.Messages
	switch {
	case d.AfterHours:
		return m.AfterHours
	case d.Handoff:
		return m.Handoff
	case d.Trigger == handoff.TriggerRestricted, d.Reason == handoff.ReasonRestrictedTopic:
		return m.TopicDeclined
	default:
		return m.NoTransfer
	}
}

func (t *turn) target() string {
	if name, ok := t.live.Handoff.Fallback.Channels[string(t.conv.Channel)]; ok {
		return name
	}
	return t.live.Handoff.Fallback.Default
}
