package sip

import (
	"net/netip"
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
