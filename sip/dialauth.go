package sip

import (
	"fmt"
	"strings"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// challenges is the policy for the 401/407 answers to one Dial's INVITE.
// sipgo answers a challenge with the configured credentials (up to twice);
// we let it answer the first, and a second only when the remote marks its
// nonce stale (RFC 7616 §3.3: the credentials were right, the nonce had
// expired). Any other second challenge is the remote refusing our
// credentials: retrying with the same ones could only lock the account.
type challenges struct {
	creds bool // outbound credentials are configured
	n     int  // challenges seen
}

// challengeRefused stops WaitAnswer at a challenge we will not answer.
type challengeRefused struct{ res *sip.Response }

func (e *challengeRefused) Error() string {
	return fmt.Sprintf("challenged again: %d %s", e.res.StatusCode, e.res.Reason)
}

// check sees every response to the INVITE before sipgo acts on it.
func (c *challenges) check(r *sip.Response) error {
	if !isChallenge(r) {
		return nil
	}
	c.n++
	if !c.creds || c.n == 1 || (c.n == 2 && staleNonce(r)) {
		return nil
	}
	return &challengeRefused{res: r}
}

// isChallenge reports a 401 or 407 that carries its challenge, the only
// kind sipgo answers.
func isChallenge(r *sip.Response) bool {
	return challengeHeader(r) != nil
}

func challengeHeader(r *sip.Response) sip.Header {
	switch r.StatusCode {
	case sip.StatusUnauthorized:
		return r.GetHeader("WWW-Authenticate")
	case sip.StatusProxyAuthRequired:
		return r.GetHeader("Proxy-Authenticate")
	}
	return nil
}

// staleNonce reports a challenge that says our last answer used an
// expired nonce; sipgo answers the first challenge header, so that is the
// one read.
func staleNonce(r *sip.Response) bool {
	h := challengeHeader(r)
	if h == nil {
		return false
	}
	c, err := digest.ParseChallenge(h.Value())
	return err == nil && c.Stale
}

// udpLimit is the largest request sipgo sends over UDP: the MTU less the
// 200 bytes RFC 3261 §18.1.1 keeps in hand. (sip.UDPMTUSize is a variable
// sipgo lets programs change; we never do.)
var udpLimit = sip.UDPMTUSize - 200

// roomForCredentials reports whether inv, sent over UDP, leaves room for
// the credentials its retry would carry after a challenge. Context
// headers fill most of a datagram: without this check the first INVITE
// goes out, the carrier challenges it, and the retry cannot be sent; the
// caller would then try again with fewer headers and the carrier would
// see a second call. inv lacks the headers sipgo adds when it sends it
// (Via, Call-ID, CSeq, Max-Forwards); the credentials get room for a
// realm, nonce and opaque as long as carriers send and a SHA-256 response.
func roomForCredentials(inv *sip.Request, user, viaHost string) (size int, ok bool) {
	const challengeValues = 128 // realm + nonce + opaque
	sipgoHeaders := fmt.Sprintf("Via: SIP/2.0/UDP %s;branch=z9hG4bK.%s\r\nCall-ID: %s\r\nCSeq: 4294967295 INVITE\r\nMax-Forwards: 70\r\n",
		viaHost, strings.Repeat("x", 16), strings.Repeat("x", 36))
	creds := fmt.Sprintf("Proxy-Authorization: Digest username=%q, realm=\"\", nonce=\"\", uri=%q, algorithm=SHA-256, "+
		"cnonce=\"%s\", qop=auth, nc=00000001, response=\"%s\", opaque=\"\"\r\n",
		user, inv.Recipient.Addr(), strings.Repeat("x", 16), strings.Repeat("x", 64))
	size = len(inv.String()) + len(sipgoHeaders) + len(creds) + challengeValues
	return size, size <= udpLimit
}
