package gateway

import (
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The shipped config starts the phone channel: SIP answers a trunk's
// health check, and the console link a transferred call carries leads to
// the conversation's page.
func TestVoiceIsWiredFromTheShippedConfig(t *testing.T) {
	g, stop := start(t, fixture(t))
	defer func() {
		if err := stop(); err != nil {
			t.Error(err)
		}
	}()
	addr := g.SIPAddr("udp")
	if addr == "" {
		t.Fatal("no SIP listener")
	}
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	local := c.LocalAddr().String()
	opts := "OPTIONS sip:support@" + addr + " SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP " + local + ";branch=z9hG4bK-wiring-1\r\n" +
		"From: <sip:probe@" + local + ">;tag=1\r\nTo: <sip:support@" + addr + ">\r\n" +
		"Call-ID: wiring-1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
	if _, err := c.Write([]byte(opts)); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 4096)
	n, err := c.Read(buf)
	if err != nil || !strings.HasPrefix(string(buf[:n]), "SIP/2.0 200") {
		t.Fatalf("OPTIONS answer: %q, %v", buf[:n], err)
	}

	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get("http://" + g.HTTPAddr() + "/agent/conversations/abc123")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != "/agent?conversation=abc123" {
		t.Fatalf("console link: %d %q", resp.StatusCode, loc)
	}
	if got := consoleURL(g.Config()); !strings.HasSuffix(got, "/agent/conversations") {
		t.Errorf("console URL %q", got)
	}
}
