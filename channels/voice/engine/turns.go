package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"switchboard/dialog"
	"switchboard/media"
	"switchboard/speech"
	"switchboard/store"
)

// job is one thing for the worker to do, in order.
type job struct {
	greet     bool
	say       string           // speak this (already stored)
	utterance speech.STTStream // the caller finished saying something
	ended     time.Time        // when the VAD heard the utterance end
	seq       int64            // utterances the caller had started by then
	explicit  bool             // the caller pressed the handoff digit
	digit     rune
}

// work runs the call's spoken turns one at a time until ctx ends.
func (cl *call) work(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case j := <-cl.jobs:
			if err := cl.do(ctx, j); err != nil && ctx.Err() == nil {
				cl.log.Warn("turn", "error", err)
			}
		}
	}
}

func (cl *call) do(ctx context.Context, j job) error {
	switch {
	case j.greet:
		text := cl.cfg.Voice.Greeting
		if _, _, err := cl.e.opts.Store.AppendMessage(ctx, store.Message{ConversationID: cl.conv.ID, Role: store.RoleAI, Text: text}); err != nil {
			return fmt.Errorf("store greeting: %w", err)
		}
		return cl.speak(ctx, text)
	case j.say != "":
		return cl.speak(ctx, j.say)
	case j.explicit:
		text := joinWords(cl.held, fmt.Sprintf("(pressed %c to speak to a person)", j.digit))
		cl.held = ""
		_, err := cl.turn(ctx, dialog.Inbound{ConversationID: cl.conv.ID, Text: text, Explicit: true}, time.Time{})
		return err
	case j.utterance != nil:
		return cl.utterance(ctx, j)
	}
	return nil
}

// utterance recognises what the caller said and answers it, unless the
// caller is not done yet (goesOn): then the words wait for the rest.
func (cl *call) utterance(ctx context.Context, j job) error {
	cl.replyFrom(j.ended)
	start := time.Now()
	tr, err := j.utterance.Close()
	cl.e.opts.Metrics.sttSeconds.Observe(time.Since(start).Seconds())
	if err != nil {
		if cl.held == "" {
			cl.replyFrom(time.Time{})
			return fmt.Errorf("recognise: %w", err)
		}
		cl.log.Warn("recognise; answering the words held back", "error", err)
	}
	said := strings.TrimSpace(tr.Text)
	cl.log.Info("caller said", "text", said)
	text := joinWords(cl.held, said)
	if text == "" {
		cl.replyFrom(time.Time{})
		return nil // a cough, a door: nothing to answer
	}
	if said != "" {
		cl.e.opts.Metrics.utterances.Inc()
	}
	if cl.goesOn(ctx, j, text) {
		cl.held = text
		cl.replyFrom(time.Time{})
		cl.e.opts.Metrics.joined.Inc()
		cl.log.Info("caller goes on; holding the words for the rest", "text", text)
		return nil
	}
	cl.held = ""
	out, err := cl.turn(ctx, dialog.Inbound{ConversationID: cl.conv.ID, Text: text}, j.ended.Add(joinWithin))
	if err == nil && out.Interrupted && out.Streamed == 0 && cl.starts.Load() != j.seq {
		// The caller went on before a word of the reply was said: their
		// next words complete these.
		cl.held = text
		cl.e.opts.Metrics.joined.Inc()
		cl.log.Info("caller went on before the reply; holding the words for the rest", "text", text)
	}
	return err
}

// turn hands the caller's words to the conductor, starts any transfer at
// once (the notice plays while the fallback rings), and speaks the replies,
// the streamed reply not before notBefore.
func (cl *call) turn(ctx context.Context, in dialog.Inbound, notBefore time.Time) (dialog.Outcome, error) {
	sp := cl.newSpeaker(ctx, notBefore)
	// Barge-in silences the speaker and so also cancels the model's stream.
	in.OnSentence, in.Interrupt, in.Heard = sp.say, sp.ctx.Done(), sp.heard
	out, err := cl.e.opts.Turns.CustomerMessage(ctx, in)
	if err != nil {
		_ = sp.finish()
		return out, err
	}
	decided := time.Now()
	if h := out.Handoff; h != nil && h.Status == store.HandoffPending {
		cl.handOff(ctx, *h, decided)
	}
	if err := sp.finish(); err != nil {
		return out, err
	}
	for _, r := range out.Replies {
		if r.ID == out.Streamed {
			continue // already spoken as it was written
		}
		if err := cl.speak(ctx, r.Text); err != nil {
			return out, err
		}
	}
	return out, nil
}

// speak synthesises text and plays it sentence by sentence; the caller
// barging in cuts it short without error.
func (cl *call) speak(ctx context.Context, text string) error {
	if cl.isPrompt(text) {
		rate := cl.line.SampleRate()
		pcm, err := cl.e.prompts.get(ctx, text, rate)
		if err != nil {
			return err
		}
		cl.replyStarts()
		return played(cl.line.Play(ctx, pcm, rate))
	}
	for a, err := range cl.e.opts.TTS.Synthesize(ctx, text) {
		if err != nil {
			return fmt.Errorf("synthesise: %w", err)
		}
		cl.replyStarts()
		err = cl.line.Play(ctx, a.PCM, a.Rate)
		if errors.Is(err, media.ErrInterrupted) {
			return nil // the rest of the reply is not wanted either
		}
		if err := played(err); err != nil {
			return err
		}
	}
	return nil
}

// played: the caller barging in is no error.
func played(err error) error {
	if err == nil || errors.Is(err, media.ErrInterrupted) {
		return nil
	}
	return fmt.Errorf("play: %w", err)
}

// isPrompt tells the configured texts every call may hear, which are
// synthesised once and shared.
func (cl *call) isPrompt(text string) bool {
	m := cl.cfg.Handoff.Messages
	switch text {
	case cl.cfg.Voice.Greeting, m.Handoff, m.AfterHours, m.NoTransfer, m.TopicDeclined, m.AskProblemStatement, m.TransferFailed:
		return true
	}
	return false
}

// replyFrom starts timing the reply to an utterance that ended at t (zero:
// no reply is coming).
func (cl *call) replyFrom(t time.Time) {
	cl.replyMu.Lock()
	cl.replyEnd = t
	cl.replyMu.Unlock()
}

// replyStarts: the first audio of the reply goes to playout now (its first
// packet leaves at the next 20 ms tick). Observed once per utterance.
func (cl *call) replyStarts() {
	cl.replyMu.Lock()
	t := cl.replyEnd
	cl.replyEnd = time.Time{}
	cl.replyMu.Unlock()
	if t.IsZero() {
		return
	}
	d := time.Since(t)
	cl.e.opts.Metrics.reply.Observe(d.Seconds())
	if f := cl.e.opts.ObserveReply; f != nil {
		f(d)
	}
}
