package sip

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Each request under testdata/requests goes to the server over UDP and
// over TCP; the status its name starts with is the answer RFC 3261 asks
// for: odd-but-valid requests are answered, invalid ones refused with a
// reason naming what is wrong. {T} {t} {L} {R} {ID} are the transport, the
// transport in lower case, our address, the server's and a unique id.
func TestRequestsAnsweredAsRFC3261Says(t *testing.T) {
	s := startServer(t, Config{}, nil)
	sendRequestFiles(t, s, "requests", func(t *testing.T, name, req, res string) {
		if _, reason := statusLine(res); strings.HasPrefix(name, "400-") && !answeredBySipgo[name] && !namesHeader(reason, name) {
			t.Errorf("reason %q does not name what is wrong in %s", reason, name)
		}
	})
}

// answeredBySipgo are refused by sipgo's transaction layer before our
// checks run, with a plain "Bad Request" (testdata/sipgo-gaps/README.md).
var answeredBySipgo = map[string]bool{"400-missing-cseq": true}

// RFC 4475's torture messages that a UAS can receive, written from the
// RFC's descriptions (testdata/rfc4475/README.md says which test each is
// and how it was adapted), go to the server as those of testdata/requests
// do. An INVITE that is answered 2xx is ACKed and hung up, so the call it
// made is seen through to its end.
func TestRFC4475TortureMessages(t *testing.T) {
	s := startServer(t, Config{}, HandlerFunc(func(ctx context.Context, c *Call) {
		if _, err := c.Answer(ctx, local4); err == nil {
			<-ctx.Done()
		}
	}))
	sendRequestFiles(t, s, "rfc4475", answerHeaders)
}

// answerHeaders checks the headers RFC 3261 asks a refusal to carry: Allow
// in a 405 (§8.2.1), Accept in a 415 (§8.2.3), and in a 420 an Unsupported
// listing every option tag of Require and none of Proxy-Require (§8.2.2.3);
// and the Warning that RFC 4475 §3.3.15 asks of a 406.
func answerHeaders(t *testing.T, name, req, res string) {
	status, _ := statusLine(res)
	need := map[string]string{"405": "Allow", "406": "Warning", "415": "Accept", "420": "Unsupported"}[status]
	if need != "" && len(headerValues(res, need)) == 0 {
		t.Errorf("%s answer without %s:\n%s", status, need, res)
	}
	if status != "420" {
		return
	}
	got := map[string]bool{}
	for _, v := range headerValues(res, "Unsupported") {
		for _, tag := range strings.Split(v, ",") {
			got[strings.TrimSpace(tag)] = true
		}
	}
	for header, want := range map[string]bool{"Require": true, "Proxy-Require": false} {
		for _, v := range headerValues(req, header) {
			for _, tag := range strings.Split(v, ",") {
				if tag = strings.TrimSpace(tag); got[tag] != want {
					t.Errorf("Unsupported %v: %s tag %q listed %v, want %v", got, header, tag, got[tag], want)
				}
			}
		}
	}
}

// overTCPOnly are sent over TCP alone: a client must not send a request
// this large over UDP (RFC 3261 §18.1.1), and sipgo sends nothing larger
// than 1300 bytes over UDP, not even 100 Trying (testdata/sipgo-gaps).
var overTCPOnly = map[string]bool{"200-3.1.1.7-longreq": true}

// framingLost are messages whose end cannot be known: over TCP the server
// may close the connection instead of answering (RFC 4475 §3.3.9), as the
// octets after them cannot be framed.
var framingLost = map[string]bool{"400-3.3.9-mcl01": true}

// sendRequestFiles sends every testdata/<dir>/*.sip over UDP and TCP and
// checks the status each name starts with; check, if set, looks further
// at a case's request as sent and the head of its answer.
func sendRequestFiles(t *testing.T, s *testServer, dir string, check func(t *testing.T, name, req, res string)) {
	files, err := filepath.Glob(filepath.Join("testdata", dir, "*.sip"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no requests in %s: %v", dir, err)
	}
	for _, tp := range []string{"udp", "tcp"} {
		for _, f := range files {
			name := strings.TrimSuffix(filepath.Base(f), ".sip")
			if tp == "udp" && overTCPOnly[name] {
				continue
			}
			t.Run(tp+"/"+name, func(t *testing.T) {
				raw, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				want, _, _ := strings.Cut(name, "-")
				c, req := dialRaw(t, tp, s.Addr(tp), string(raw), strings.ReplaceAll(tp+"-"+name, ".", "-"))
				res, err := readFinal(c)
				if err != nil {
					if tp == "tcp" && framingLost[name] && errors.Is(err, io.EOF) {
						return // closed, as the RFC allows
					}
					t.Fatalf("no final response: %v", err)
				}
				status, _ := statusLine(res)
				if status != want {
					t.Fatalf("answered %q, want %s", firstLine(res), want)
				}
				if status[0] == '2' {
					answersThisRequest(t, req, res)
					if strings.HasPrefix(req, "INVITE ") {
						hangUp(t, c, tp, req, res)
					}
				}
				if check != nil {
					check(t, name, req, res)
				}
			})
		}
	}
}

// compactForms are the short names of the headers answersThisRequest reads.
var compactForms = map[string]string{"Call-ID": "i"}

// answersThisRequest fails unless res answers the first request in req
// (not octets that trail it): the same Call-ID and CSeq.
func answersThisRequest(t *testing.T, req, res string) {
	t.Helper()
	head, _, _ := strings.Cut(req, "\r\n\r\n")
	for _, name := range []string{"Call-ID", "CSeq"} {
		got := headerValues(res, name)
		want := append(headerValues(head, name), headerValues(head, compactForms[name])...)
		if len(got) != 1 || len(want) == 0 || got[0] != want[0] {
			t.Errorf("%s: response %q, request %q", name, got, want)
		}
	}
}

// hangUp ACKs the 2xx res to the INVITE req on c and ends the call with a
// BYE, which must be answered 200: the dialog the INVITE made works.
func hangUp(t *testing.T, c net.Conn, tp, req, res string) {
	t.Helper()
	contact := headerValues(res, "Contact")
	cseq := headerValues(req, "CSeq")
	if len(contact) != 1 || len(cseq) == 0 {
		t.Fatalf("2xx Contact %q, INVITE CSeq %q", contact, cseq)
	}
	target := strings.Trim(strings.SplitN(contact[0], ">", 2)[0], "<")
	seq, _, _ := strings.Cut(cseq[0], " ")
	n, err := strconv.Atoi(seq)
	if err != nil {
		t.Fatalf("INVITE CSeq %q: %v", cseq[0], err)
	}
	dialog := "From: " + headerValues(res, "From")[0] + "\r\nTo: " + headerValues(res, "To")[0] +
		"\r\nCall-ID: " + headerValues(res, "Call-ID")[0] + "\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n"
	for _, m := range []struct {
		method string
		seq    int
	}{{"ACK", n}, {"BYE", n + 1}} {
		msg := fmt.Sprintf("%s %s SIP/2.0\r\nVia: SIP/2.0/%s %s;branch=z9hG4bK-%s-%d\r\n%sCSeq: %d %s\r\n\r\n",
			m.method, target, strings.ToUpper(tp), c.LocalAddr(), strings.ToLower(m.method), m.seq, dialog, m.seq, m.method)
		if _, err := c.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
	}
	bye := readResponse(t, c)
	for strings.Contains(bye, " INVITE\r\n") { // a retransmitted 2xx, sent before our ACK arrived
		bye = readResponse(t, c)
	}
	if status, _ := statusLine(bye); status != "200" || !strings.Contains(bye, " BYE\r\n") {
		t.Fatalf("BYE answered %q", firstLine(bye))
	}
}

// The response copies Via (every value, in order), From with its tag,
// Call-ID and CSeq exactly, and To with a tag added (RFC 3261 §8.2.6).
func TestResponseCopiesTheRequestsHeaders(t *testing.T) {
	s := startServer(t, Config{}, nil)
	raw, err := os.ReadFile(filepath.Join("testdata", "requests", "200-several-vias.sip"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tp := range []string{"udp", "tcp"} {
		t.Run(tp, func(t *testing.T) {
			c, req := dialRaw(t, tp, s.Addr(tp), string(raw), tp+"-copies")
			res := readResponse(t, c)
			for _, name := range []string{"From", "Call-ID", "CSeq"} {
				if got, want := headerValues(res, name), headerValues(req, name); strings.Join(got, "|") != strings.Join(want, "|") {
					t.Errorf("%s: response %q, request %q", name, got, want)
				}
			}
			// Via values equal and in order (§8.2.6.2), a header of several
			// values counting as those values (§7.3.1); the top one carries
			// what our transport added on receipt (§18.2.1, RFC 3581).
			got, want := viaValues(res), viaValues(req)
			if len(got) > 0 {
				got[0] = receivedParam.ReplaceAllString(got[0], "")
				got[0] = strings.Replace(got[0], ";rport="+rportOf(got[0]), ";rport", 1)
			}
			if strings.Join(got, "|") != strings.Join(want, "|") {
				t.Errorf("Via: response %q, request %q", got, want)
			}
			to, reqTo := headerValues(res, "To"), headerValues(req, "To")
			if len(to) != 1 || !strings.HasPrefix(to[0], reqTo[0]) || !strings.Contains(to[0][len(reqTo[0]):], ";tag=") {
				t.Errorf("To: response %q, request %q: want the request's with a tag added", to, reqTo)
			}
		})
	}
}

func exchange(t *testing.T, tp, addr, raw, id string) string {
	t.Helper()
	c, _ := dialRaw(t, tp, addr, raw, id)
	return readResponse(t, c)
}

// dialRaw sends raw, its placeholders filled, from a new socket and
// returns the connection and the request as sent.
func dialRaw(t *testing.T, tp, addr, raw, id string) (net.Conn, string) {
	t.Helper()
	c, err := net.Dial(tp, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	req := strings.NewReplacer("{T}", strings.ToUpper(tp), "{t}", tp, "{L}", c.LocalAddr().String(), "{R}", addr, "{ID}", id).Replace(raw)
	if _, err := c.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	return c, req
}

// readResponse returns the first final response on c.
func readResponse(t *testing.T, c net.Conn) string {
	t.Helper()
	res, err := readFinal(c)
	if err != nil {
		t.Fatalf("no final response: %v", err)
	}
	return res
}

// readFinal returns the head of the first final response on c.
func readFinal(c net.Conn) (string, error) {
	buf := make([]byte, 65535)
	var pending string
	for {
		_ = c.SetReadDeadline(time.Now().Add(waitFor))
		n, err := c.Read(buf)
		if err != nil {
			return "", err
		}
		pending += string(buf[:n])
		for {
			head, rest, ok := strings.Cut(pending, "\r\n\r\n")
			if !ok {
				break
			}
			pending = rest
			if status, _ := statusLine(head); status != "" && status[0] != '1' {
				return head, nil
			}
		}
	}
}

func statusLine(msg string) (status, reason string) {
	line := firstLine(msg)
	rest, ok := strings.CutPrefix(line, "SIP/2.0 ")
	if !ok {
		return "", ""
	}
	status, reason, _ = strings.Cut(rest, " ")
	return status, reason
}

func firstLine(msg string) string { line, _, _ := strings.Cut(msg, "\r\n"); return line }

// headerValues lists the values of name's lines in a message head whose
// folded lines are unfolded.
func headerValues(msg, name string) []string {
	var out []string
	for _, line := range strings.Split(msg, "\r\n")[1:] {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(strings.TrimSpace(k), name) {
			out = append(out, strings.TrimSpace(v))
		}
	}
	return out
}

// namesHeader reports whether a 400's reason names the header the test
// case's name is about ("400-duplicate-call-id" and "Duplicate Call-ID
// Header").
func namesHeader(reason, name string) bool {
	words := strings.Split(strings.ToLower(name), "-")[1:]
	r := strings.ToLower(strings.ReplaceAll(reason, "-", " "))
	hits := 0
	for _, w := range words {
		if strings.Contains(r, w) {
			hits++
		}
	}
	return hits >= 2
}

var receivedParam = regexp.MustCompile(`;received=[^;,]*`)

func viaValues(msg string) []string {
	var out []string
	for _, h := range headerValues(msg, "Via") {
		for _, v := range strings.Split(h, ",") {
			out = append(out, strings.TrimSpace(v))
		}
	}
	return out
}

// rportOf is the number after rport= in a Via value.
func rportOf(via string) string {
	_, rest, _ := strings.Cut(via, ";rport=")
	port, _, _ := strings.Cut(rest, ";")
	return port
}

// FuzzCheckRequest: whatever sipgo parses, the checks never panic, and a
// request that checkRequest passes has every mandatory header once, a
// matching CSeq, and Require tags that can go back in Unsupported.
// Seeds: the requests under testdata/requests, rfc4475 and sipgo-gaps.
func FuzzCheckRequest(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*", "*.sip"))
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(strings.NewReplacer("{T}", "UDP", "{t}", "udp", "{L}", "192.0.2.1:5060", "{R}", "192.0.2.9:5060", "{ID}", "fuzz").Replace(string(raw)))
	}
	f.Fuzz(func(t *testing.T, raw string) {
		msg, err := sip.ParseMessage([]byte(raw))
		if err != nil {
			return
		}
		req, ok := msg.(*sip.Request)
		if !ok {
			return
		}
		_ = acceptsSDP(req)
		if status, reason := checkRequest(req); status != 0 {
			if reason == "" || (status != 400 && status != 416 && status != 505) {
				t.Fatalf("status %d reason %q", status, reason)
			}
			return
		}
		for _, name := range singleHeaders[:5] {
			if n := len(req.GetHeaders(name)); n != 1 {
				t.Fatalf("passed with %d %s headers", n, name)
			}
		}
		if req.CSeq().MethodName != req.Method {
			t.Fatal("passed with a CSeq of another method")
		}
		for _, tag := range unsupportedRequire(req) {
			// Each goes back in Unsupported as a token of its own.
			if !isToken(tag) || req.IsAck() || req.IsCancel() {
				t.Fatalf("Unsupported tag %q of a %s", tag, req.Method)
			}
		}
	})
}
