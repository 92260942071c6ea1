package sip

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// Trunk is a SIP peer allowed to send us calls: by source address (Allow),
// by digest credentials (Username and Password), or both.
type Trunk struct {
	Name     string
	Allow    []netip.Prefix
	Username string
	Password string // already resolved from the environment by the caller
}

// nonceLifetime bounds how long a challenge may be answered; an older nonce
// with a valid signature gets a fresh challenge with stale=true.
const nonceLifetime = 5 * time.Minute

// maxAuthorization bounds the Authorization header we are willing to parse.
const maxAuthorization = 2048

// verdict is the outcome of admission: a trunk name when admitted, else the
// status to answer with (401 with a challenge, or 403) and a reason label.
type verdict struct {
	trunk     string
	status    int
	reason    string // rejected_total label when status is 403
	detail    string // for the log
	challenge string // WWW-Authenticate value when status is 401
}

func (v verdict) admitted() bool { return v.status == 0 }

// admission decides whether an out-of-dialog request may proceed. Nonces
// are stateless: a timestamp, random bytes and an HMAC over them, the
// source IP and the realm, so a nonce cannot be used from another address
// or after its lifetime, and nothing is stored per challenge. What is
// stored is per right answer: the nonce count it used (replayGuard), so a
// captured Authorization header is not good twice.
type admission struct {
	// trunks is swapped whole on a config reload (setTrunks); a request
	// is judged against one version of the list.
	trunks  atomic.Pointer[[]Trunk]
	realm   string
	key     []byte
	now     func() time.Time
	replays *replayGuard
}

func newAdmission(trunks []Trunk, realm string) (*admission, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("nonce key: %w", err)
	}
	a := &admission{realm: realm, key: key, now: time.Now, replays: newReplayGuard()}
	a.setTrunks(trunks)
	return a, nil
}

func (a *admission) setTrunks(trunks []Trunk) {
	trunks = slices.Clone(trunks)
	a.trunks.Store(&trunks)
}

// admit checks the request's source against every trunk's Allow list, then
// its digest credentials against the trunks that have them.
func (a *admission) admit(req *sip.Request) verdict {
	src := sourceAddr(req).Addr()
	trunks := *a.trunks.Load()
	for _, t := range trunks {
		for _, p := range t.Allow {
			if src.IsValid() && p.Contains(src) {
				return verdict{trunk: t.Name}
			}
		}
	}
	if !anyCredentials(trunks) {
		return verdict{status: 403, reason: rejectACL, detail: "source not allowed"}
	}
	h := req.GetHeader("Authorization")
	if h == nil {
		return a.challenge(src, false)
	}
	return a.verify(req, h.Value(), src, trunks)
}

func anyCredentials(trunks []Trunk) bool {
	for _, t := range trunks {
		if t.Username != "" && t.Password != "" {
			return true
		}
	}
	return false
}

func (a *admission) challenge(src netip.Addr, stale bool) verdict {
	c := digest.Challenge{
		Realm: a.realm, Nonce: a.nonce(src, a.now()), Algorithm: "MD5",
		QOP: []string{"auth"}, Stale: stale,
	}
	return verdict{status: 401, challenge: c.String()}
}

// verify checks an Authorization header value. Every failure but an
// expired nonce is a 403: a wrong password must not get another try
// for free.
func (a *admission) verify(req *sip.Request, value string, src netip.Addr, trunks []Trunk) verdict {
	deny := func(detail string) verdict { return verdict{status: 403, reason: rejectAuth, detail: detail} }
	if len(value) > maxAuthorization {
		return deny("authorization too long")
	}
	creds, err := digest.ParseCredentials(value)
	if err != nil {
		return deny("authorization unparsable")
	}
	switch ok, expired := a.checkNonce(creds.Nonce, src); {
	case !ok:
		return deny("nonce not ours")
	case expired:
		return a.challenge(src, true)
	}
	if creds.Realm != a.realm || creds.Userhash || (creds.QOP != "" && creds.QOP != "auth") {
		return deny("realm, userhash or qop not offered")
	}
	if !sameTarget(creds.URI, req.Recipient) {
		return deny("digest uri does not match request uri")
	}
	t, ok := trunkFor(trunks, creds.Username)
	if !ok {
		return deny("unknown user")
	}
	chal := &digest.Challenge{Realm: a.realm, Nonce: creds.Nonce, Algorithm: creds.Algorithm, Opaque: creds.Opaque}
	if creds.QOP != "" {
		chal.QOP = []string{creds.QOP}
	}
	want, err := digest.Digest(chal, digest.Options{
		Method: string(req.Method), URI: creds.URI, Username: creds.Username, Password: t.Password,
		Cnonce: creds.Cnonce, Count: creds.Nc,
	})
	if err != nil || subtle.ConstantTimeCompare([]byte(want.Response), []byte(creds.Response)) != 1 {
		return deny("wrong response")
	}
	if !a.replays.fresh(creds.Nonce, creds.Nc, a.now(), a.nonceExpiry(creds.Nonce)) {
		// A replayed (or reused) answer: the holder of the password
		// answers a fresh challenge; a replayer cannot.
		return a.challenge(src, true)
	}
	return verdict{trunk: t.Name}
}

// trunkNamed is the trunk of that name in the list in force.
func (a *admission) trunkNamed(name string) (Trunk, bool) {
	for _, t := range *a.trunks.Load() {
		if t.Name == name {
			return t, true
		}
	}
	return Trunk{}, false
}

func trunkFor(trunks []Trunk, user string) (Trunk, bool) {
	for _, t := range trunks {
		if t.Username != "" && t.Password != "" && t.Username == user {
			return t, true
		}
	}
	return Trunk{}, false
}

// sameTarget reports whether the digest-uri names the Request-URI, so a
// captured Authorization cannot be replayed against another target.
func sameTarget(digestURI string, ruri sip.Uri) bool {
	var u sip.Uri
	if err := sip.ParseUri(digestURI, &u); err != nil {
		return false
	}
	return u.User == ruri.User && strings.EqualFold(u.Host, ruri.Host)
}

const nonceMACLen = 16

// nonceRandLen random bytes make every challenge's nonce new, even two to
// one source in one second: the replay guard counts uses per nonce, and a
// client that answers each challenge with nc=1 must not look like a replay.
const nonceRandLen = 8

// nonceHead is the issue time and the random part, which the MAC covers.
const nonceHead = 8 + nonceRandLen

func (a *admission) nonce(src netip.Addr, at time.Time) string {
	buf := make([]byte, nonceHead, nonceHead+nonceMACLen)
	binary.BigEndian.PutUint64(buf, uint64(at.Unix()))
	_, _ = rand.Read(buf[8:nonceHead]) // crypto/rand.Read never fails (Go 1.24+)
	buf = append(buf, a.mac(buf[:nonceHead], src)...)
	return base64.RawURLEncoding.EncodeToString(buf)
}

// checkNonce reports whether we issued the nonce to src, and whether it has
// outlived nonceLifetime.
func (a *admission) checkNonce(nonce string, src netip.Addr) (ok, expired bool) {
	raw, err := base64.RawURLEncoding.DecodeString(nonce)
	if err != nil || len(raw) != nonceHead+nonceMACLen || !hmac.Equal(raw[nonceHead:], a.mac(raw[:nonceHead], src)) {
		return false, false
	}
	issued := time.Unix(int64(binary.BigEndian.Uint64(raw[:8])), 0)
	age := a.now().Sub(issued)
	return true, age > nonceLifetime || age < -time.Minute
}

// nonceExpiry is when a nonce checkNonce accepted stops being good.
func (a *admission) nonceExpiry(nonce string) time.Time {
	raw, _ := base64.RawURLEncoding.DecodeString(nonce)
	if len(raw) < 8 {
		return a.now()
	}
	return time.Unix(int64(binary.BigEndian.Uint64(raw[:8])), 0).Add(nonceLifetime)
}

func (a *admission) mac(head []byte, src netip.Addr) []byte {
	m := hmac.New(sha256.New, a.key)
	m.Write(head)
	ip := src.As16()
	m.Write(ip[:])
	m.Write([]byte(a.realm))
	return m.Sum(nil)[:nonceMACLen]
}

// sourceAddr is where a message came from (the packet's or connection's
// remote address), not what its Via claims.
func sourceAddr(m interface{ Source() string }) netip.AddrPort {
	ap, err := netip.ParseAddrPort(m.Source())
	if err != nil {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}
