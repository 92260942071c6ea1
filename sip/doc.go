// Package sip owns Switchboard's SIP edge: the sipgo user agent and B2BUA
// (INVITE, ACK, BYE, CANCEL, OPTIONS), SDP offer/answer, REFER with NOTIFY,
// digest authentication and ACLs.
//
// It must not know about dialog or handoff policy: it turns SIP and SDP into
// calls and media parameters, and takes decisions made elsewhere back to the
// wire.
package sip
