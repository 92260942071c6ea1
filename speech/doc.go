// Package speech owns the speech providers every call shares, a phone call
// or a browser's: recognisers (STT: pocketsphinx, embedded, or an
// OpenAI-compatible transcription API) and synthesisers (TTS: flite,
// embedded, or an OpenAI-compatible speech API), the audio they exchange
// (PCM, WAV), and the sentence pipeline that lets the first sentence play
// while the next is made.
//
// It must not know about calls or channels: a channel hands it PCM at the
// line's rate and plays what it yields; turn taking stays in dialog.
package speech
