// Package sip owns Switchboard's SIP edge: the sipgo user agent and B2BUA
// (INVITE, ACK, BYE, CANCEL, OPTIONS), SDP offer/answer, REFER with NOTIFY,
// outbound calls (Server.Dial, for an inbound call's transfer or a call
// with no SIP caller at all), digest authentication both ways and ACLs.
//
// It must not know about dialog or handoff policy: it turns SIP and SDP into
// calls and media parameters, and takes decisions made elsewhere back to the
// wire.
package sip
