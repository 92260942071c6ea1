package sip

import (
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

var authTrunks = []Trunk{
	{Name: "carrier", Allow: []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")}},
	{Name: "pbx", Username: "pbx1", Password: "s3cret"},
}

func authRequest(src, authorization string) *sip.Request {
	req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: "+15550100", Host: "198.51.100.1", Port: 5060})
	req.SetSource(src)
	if authorization != "" {
		req.AppendHeader(sip.NewHeader("Authorization", authorization))
	}
	return req
}

// answer computes what a client would send to a challenge.
func answer(t *testing.T, challenge, method, uri, user, pass string) string {
	t.Helper()
	chal, err := digest.ParseChallenge(challenge)
	if err != nil {
		t.Fatal(err)
	}
	cred, err := digest.Digest(chal, digest.Options{Method: method, URI: uri, Username: user, Password: pass})
	if err != nil {
		t.Fatal(err)
	}
	return cred.String()
}

func TestAdmission(t *testing.T) {
	adm, err := newAdmission(authTrunks, realm)
	if err != nil {
		t.Fatal(err)
	}
	const client = "192.0.2.10:5060"
	chal := adm.admit(authRequest(client, "")).challenge
	uri := "sip:+15550100@198.51.100.1:5060"
	good := answer(t, chal, "INVITE", uri, "pbx1", "s3cret")
	tests := []struct {
		name   string
		src    string
		auth   string
		status int
		trunk  string
		reason string
	}{
		{name: "allowed cidr", src: "203.0.113.9:5060", trunk: "carrier"},
		{name: "ipv4-mapped source", src: "[::ffff:203.0.113.9]:5060", trunk: "carrier"},
		{name: "no credentials: challenge", src: client, status: 401},
		{name: "right password", src: client, auth: good, trunk: "pbx"},
		{name: "wrong password", src: client, auth: answer(t, chal, "INVITE", uri, "pbx1", "guess"), status: 403, reason: rejectAuth},
		{name: "unknown user", src: client, auth: answer(t, chal, "INVITE", uri, "root", "s3cret"), status: 403, reason: rejectAuth},
		{name: "nonce from another address", src: "192.0.2.11:5060", auth: good, status: 403, reason: rejectAuth},
		{name: "other request uri", src: client, auth: answer(t, chal, "INVITE", "sip:+1900@198.51.100.1", "pbx1", "s3cret"), status: 403, reason: rejectAuth},
		{name: "other method", src: client, auth: answer(t, chal, "REGISTER", uri, "pbx1", "s3cret"), status: 403, reason: rejectAuth},
		{name: "forged nonce", src: client, auth: strings.Replace(good, `nonce="`, `nonce="A`, 1), status: 403, reason: rejectAuth},
		{name: "not digest", src: client, auth: "Basic cGJ4MTpzM2NyZXQ=", status: 403, reason: rejectAuth},
		{name: "huge header", src: client, auth: "Digest " + strings.Repeat("x", maxAuthorization), status: 403, reason: rejectAuth},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := adm.admit(authRequest(tt.src, tt.auth))
			if v.status != tt.status || v.trunk != tt.trunk || v.reason != tt.reason {
				t.Fatalf("verdict %+v, want status %d trunk %q reason %q", v, tt.status, tt.trunk, tt.reason)
			}
		})
	}
}

func TestAdmissionWithoutCredentialTrunksForbids(t *testing.T) {
	adm, err := newAdmission(authTrunks[:1], realm)
	if err != nil {
		t.Fatal(err)
	}
	if v := adm.admit(authRequest("192.0.2.10:5060", "")); v.status != 403 || v.reason != rejectACL {
		t.Fatalf("verdict %+v, want 403 acl", v)
	}
}

func TestExpiredNonceIsChallengedStale(t *testing.T) {
	adm, err := newAdmission(authTrunks, realm)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	adm.now = func() time.Time { return now }
	const client = "192.0.2.10:5060"
	chal := adm.admit(authRequest(client, "")).challenge
	auth := answer(t, chal, "INVITE", "sip:+15550100@198.51.100.1:5060", "pbx1", "s3cret")
	now = now.Add(nonceLifetime + time.Second)
	v := adm.admit(authRequest(client, auth))
	if v.status != 401 || !strings.Contains(v.challenge, "stale=true") {
		t.Fatalf("verdict %+v, want a stale challenge", v)
	}
}

func FuzzAdmitAuthorization(f *testing.F) {
	// Seeds live in testdata/fuzz/FuzzAdmitAuthorization.
	adm, err := newAdmission(authTrunks, realm)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, authorization string) {
		v := adm.admit(authRequest("192.0.2.10:5060", authorization))
		if authorization == "" && v.status == 401 {
			return
		}
		// Nothing a fuzzer makes up can carry our HMAC'd nonce.
		if v.admitted() || (v.status != 403 && v.status != 401) {
			t.Fatalf("verdict %+v for %q", v, authorization)
		}
	})
}

// A captured Authorization header is not good twice: the same nonce count
// again is challenged afresh (stale, so the real client answers the new
// nonce), a higher count on the same nonce is taken, and an answer without
// qop makes its nonce good for one request.
func TestReplayedAuthorizationIsChallenged(t *testing.T) {
	adm, err := newAdmission(authTrunks, realm)
	if err != nil {
		t.Fatal(err)
	}
	const client = "192.0.2.10:5060"
	const uri = "sip:+15550100@198.51.100.1:5060"
	chal, err := digest.ParseChallenge(adm.admit(authRequest(client, "")).challenge)
	if err != nil {
		t.Fatal(err)
	}
	withCount := func(nc int) string {
		c, err := digest.Digest(chal, digest.Options{Method: "INVITE", URI: uri, Username: "pbx1", Password: "s3cret", Cnonce: "c0ffee", Count: nc})
		if err != nil {
			t.Fatal(err)
		}
		return c.String()
	}
	noQOP := *chal
	noQOP.QOP = nil
	plain, err := digest.Digest(&noQOP, digest.Options{Method: "INVITE", URI: uri, Username: "pbx1", Password: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name   string
		auth   string
		status int
	}{
		{"first use", withCount(1), 0},
		{"the same header again", withCount(1), 401},
		{"the next count", withCount(2), 0},
		{"an older count", withCount(1), 401},
		{"no qop on a nonce already used", plain.String(), 401},
	}
	for _, st := range steps {
		v := adm.admit(authRequest(client, st.auth))
		if v.status != st.status {
			t.Fatalf("%s: verdict %+v, want status %d", st.name, v, st.status)
		}
		if v.status == 401 && !strings.Contains(v.challenge, "stale=true") {
			t.Errorf("%s: challenge %q, want stale=true", st.name, v.challenge)
		}
	}

	// A fresh nonce answered without qop is good once.
	chal2, err := digest.ParseChallenge(adm.admit(authRequest("192.0.2.12:5060", "")).challenge)
	if err != nil {
		t.Fatal(err)
	}
	chal2.QOP = nil
	once, err := digest.Digest(chal2, digest.Options{Method: "INVITE", URI: uri, Username: "pbx1", Password: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	if v := adm.admit(authRequest("192.0.2.12:5060", once.String())); !v.admitted() {
		t.Fatalf("first use without qop: %+v", v)
	}
	if v := adm.admit(authRequest("192.0.2.12:5060", once.String())); v.status != 401 {
		t.Fatalf("second use without qop: %+v, want 401", v)
	}
}

// The guard's memory is bounded: full of live nonces it refuses new ones,
// and makes room once they expire.
func TestReplayGuardIsBounded(t *testing.T) {
	g := newReplayGuard()
	now := time.Unix(1_800_000_000, 0)
	for i := range maxTrackedNonces {
		if !g.fresh(strconv.Itoa(i), 1, now, now.Add(nonceLifetime)) {
			t.Fatalf("nonce %d refused before the guard was full", i)
		}
	}
	if g.fresh("one-more", 1, now, now.Add(nonceLifetime)) {
		t.Fatal("a new nonce was taken with the guard full of live ones")
	}
	later := now.Add(nonceLifetime + time.Second)
	if !g.fresh("one-more", 1, later, later.Add(nonceLifetime)) {
		t.Fatal("a new nonce was refused after the old ones expired")
	}
	if len(g.counts) != 1 {
		t.Errorf("%d nonces tracked after expiry, want 1", len(g.counts))
	}
}
