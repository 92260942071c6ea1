package gateway

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"switchboard/store"
	"switchboard/store/sqlite"
)

// udpCaller is a bare SIP caller on one UDP socket: enough to hold a call
// up and see how the gateway ends it.
type udpCaller struct {
	t    *testing.T
	conn net.Conn
}

func dialSIP(t *testing.T, addr string) *udpCaller {
	t.Helper()
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &udpCaller{t: t, conn: c}
}

// invite sends an INVITE with a PCMU offer and returns the first final
// response.
func (u *udpCaller) invite(callID string) string {
	u.t.Helper()
	local := u.conn.LocalAddr().String()
	host, _, _ := net.SplitHostPort(local)
	sdp := "v=0\r\no=- 1 1 IN IP4 " + host + "\r\ns=-\r\nc=IN IP4 " + host + "\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n"
	u.write("INVITE sip:+15550100@" + u.conn.RemoteAddr().String() + " SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP " + local + ";branch=z9hG4bK-" + callID + "\r\n" +
		"From: <sip:+15551234567@" + local + ">;tag=" + callID + "\r\nTo: <sip:+15550100@" + u.conn.RemoteAddr().String() + ">\r\n" +
		"Call-ID: " + callID + "\r\nCSeq: 1 INVITE\r\nContact: <sip:caller@" + local + ">\r\nMax-Forwards: 70\r\n" +
		"Content-Type: application/sdp\r\nContent-Length: " + strconv.Itoa(len(sdp)) + "\r\n\r\n" + sdp)
	for {
		msg := u.read("a final response to the INVITE")
		if status := statusOf(msg); status != "" && status[0] != '1' {
			return msg
		}
	}
}

// ack confirms the 200 OK res.
func (u *udpCaller) ack(callID, res string) {
	u.t.Helper()
	local := u.conn.LocalAddr().String()
	u.write("ACK sip:switchboard@" + u.conn.RemoteAddr().String() + " SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP " + local + ";branch=z9hG4bK-ack-" + callID + "\r\n" +
		"From: <sip:+15551234567@" + local + ">;tag=" + callID + "\r\nTo: " + header(res, "To") + "\r\n" +
		"Call-ID: " + callID + "\r\nCSeq: 1 ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n")
}

func (u *udpCaller) write(msg string) {
	u.t.Helper()
	if _, err := u.conn.Write([]byte(msg)); err != nil {
		u.t.Fatal(err)
	}
}

func (u *udpCaller) read(what string) string {
	u.t.Helper()
	_ = u.conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	buf := make([]byte, 65535)
	n, err := u.conn.Read(buf)
	if err != nil {
		u.t.Fatalf("waiting for %s: %v", what, err)
	}
	return string(buf[:n])
}

func statusOf(msg string) string {
	if !strings.HasPrefix(msg, "SIP/2.0 ") {
		return ""
	}
	return msg[len("SIP/2.0 "):min(len(msg), len("SIP/2.0 ")+3)]
}

func header(msg, name string) string {
	for _, line := range strings.Split(msg, "\r\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// Stopping with a call up drains: /readyz says "draining", a new INVITE
// gets 503 with Retry-After at once, the call goes on until drain_timeout,
// then it is hung up with a BYE and its conversation says why.
func TestStopDrainsCallsThenHangsUp(t *testing.T) {
	cfg := fixture(t)
	edit(t, cfg, "drain_timeout: 60s", "drain_timeout: 2s")
	data := t.TempDir()
	g, err := New(context.Background(), Options{ConfigPath: cfg, HTTPAddr: "127.0.0.1:0", SIPAddr: "127.0.0.1:0", DataDir: data},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()

	caller := dialSIP(t, g.SIPAddr("udp"))
	ok := caller.invite("drain-1")
	if statusOf(ok) != "200" {
		t.Fatalf("INVITE answered %q", ok)
	}
	caller.ack("drain-1", ok)

	cancel() // SIGTERM
	waitFor(t, "/readyz to say draining", func() bool {
		resp, err := http.Get("http://" + g.HTTPAddr() + "/readyz")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode == http.StatusServiceUnavailable && strings.Contains(string(b), `"draining"`)
	})
	late := dialSIP(t, g.SIPAddr("udp")).invite("drain-2")
	if statusOf(late) != "503" || header(late, "Retry-After") == "" {
		t.Errorf("an INVITE while draining got %q, want 503 with Retry-After", late)
	}
	select {
	case err := <-done:
		t.Fatalf("Run returned with the call still in its drain time: %v", err)
	default:
	}
	for {
		msg := caller.read("the BYE at the drain timeout")
		if strings.HasPrefix(msg, "BYE ") {
			caller.write("SIP/2.0 200 OK\r\nVia: " + header(msg, "Via") + "\r\nFrom: " + header(msg, "From") +
				"\r\nTo: " + header(msg, "To") + "\r\nCall-ID: " + header(msg, "Call-ID") + "\r\nCSeq: " + header(msg, "CSeq") +
				"\r\nContent-Length: 0\r\n\r\n")
			break
		}
	}
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}

	st, err := sqlite.Open(context.Background(), filepath.Join(data, "switchboard.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	convs, err := st.ListConversations(context.Background(), store.ListFilter{})
	if err != nil || len(convs) != 1 {
		t.Fatalf("conversations %v, %v; want the call's", convs, err)
	}
	msgs, err := st.Messages(context.Background(), convs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	last := msgs[len(msgs)-1]
	if last.Role != store.RoleSystem || !strings.Contains(last.Text, "drain timeout") {
		t.Errorf("the conversation ends with %+v, want a note that the gateway hung up at its drain timeout", last)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
