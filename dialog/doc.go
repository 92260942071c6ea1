// Package dialog owns the AI side of a conversation: turn taking, the
// responders that write the AI's next message (the embedded rule-based one
// and an OpenAI-compatible one), and summaries. Speech (STT, TTS) is the
// speech package's.
//
// It must not do I/O with channels: adapters hand it text and send its
// replies themselves, and the handoff package decides whether a reply goes
// out at all.
package dialog
