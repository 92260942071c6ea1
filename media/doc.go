// Package media owns the audio path of a call: RTP sessions, codecs, the
// jitter buffer, resampling, voice activity detection, RFC 4733 DTMF, paced
// playout and the bridging of two legs.
//
// It must not know about SIP: signalling lives in package sip, which hands
// media the negotiated addresses and payload types and nothing else.
package media
