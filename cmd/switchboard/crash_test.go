package main

import (
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A gateway killed with SIGKILL mid-call and started again on the same
// data closes the call it had: its conversation says the caller was cut
// off, and when that was noticed.
func TestKilledMidCallIsClosedAfterRestart(t *testing.T) {
	bin := buildBinary(t)
	cfg := filepath.Join(configDir(t), "switchboard.yaml")
	data := t.TempDir()
	const token = "crash-test-agent-token-0123456789"
	serve := func() *server {
		cmd := exec.Command(bin, "serve", "--config", cfg, "--http", "127.0.0.1:0", "--sip", "127.0.0.1:0", "--data", data)
		cmd.Env = append(os.Environ(), "SWITCHBOARD_AGENT_TOKEN="+token)
		return launch(t, cmd)
	}
	first := serve()
	var sipAddr string
	first.waitLog(t, "switchboard started", func(l map[string]any) { sipAddr, _ = l["sip"].(string) })

	// The caller: signalling on one socket, media on another, so that the
	// greeting's first packet shows the call has its conversation.
	sigConn, err := net.Dial("udp", sipAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer sigConn.Close()
	rtp, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer rtp.Close()
	local := sigConn.LocalAddr().String()
	rtpPort := strconv.Itoa(rtp.LocalAddr().(*net.UDPAddr).Port)
	sdp := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio " + rtpPort + " RTP/AVP 0\r\n"
	invite := "INVITE sip:+15550100@" + sipAddr + " SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP " + local + ";branch=z9hG4bK-crash\r\n" +
		"From: <sip:+15551234567@" + local + ">;tag=crash\r\nTo: <sip:+15550100@" + sipAddr + ">\r\n" +
		"Call-ID: crash-1\r\nCSeq: 1 INVITE\r\nContact: <sip:caller@" + local + ">\r\nMax-Forwards: 70\r\n" +
		"Content-Type: application/sdp\r\nContent-Length: " + strconv.Itoa(len(sdp)) + "\r\n\r\n" + sdp
	if _, err := sigConn.Write([]byte(invite)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 65535)
	var ok string
	for ok == "" {
		_ = sigConn.SetReadDeadline(time.Now().Add(20 * time.Second))
		n, err := sigConn.Read(buf)
		if err != nil {
			t.Fatalf("no 200 OK: %v", err)
		}
		if strings.HasPrefix(string(buf[:n]), "SIP/2.0 200") {
			ok = string(buf[:n])
		}
	}
	var to string
	for _, line := range strings.Split(ok, "\r\n") {
		if v, found := strings.CutPrefix(line, "To: "); found {
			to = v
		}
	}
	ack := "ACK sip:switchboard@" + sipAddr + " SIP/2.0\r\nVia: SIP/2.0/UDP " + local + ";branch=z9hG4bK-crash-ack\r\n" +
		"From: <sip:+15551234567@" + local + ">;tag=crash\r\nTo: " + to + "\r\nCall-ID: crash-1\r\nCSeq: 1 ACK\r\n" +
		"Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
	if _, err := sigConn.Write([]byte(ack)); err != nil {
		t.Fatal(err)
	}
	// Media may start with silence; the greeting's speech comes once the
	// conversation exists.
	_ = rtp.SetReadDeadline(time.Now().Add(20 * time.Second))
	for spoken := false; !spoken; {
		n, _, err := rtp.ReadFrom(buf)
		if err != nil {
			t.Fatalf("no greeting audio: %v", err)
		}
		spoken = n > 12 && !quiet(buf[12:n])
	}

	if err := first.cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	<-first.done
	first.done <- nil // for the cleanup

	second := serve()
	var convID string
	second.waitLog(t, "closed a call whose instance stopped unexpectedly", func(l map[string]any) {
		convID, _ = l["conversation_id"].(string)
	})
	var conv struct {
		Transcript []struct {
			Role string `json:"role"`
			Text string `json:"text"`
		} `json:"transcript"`
	}
	call(t, second.addr, http.MethodGet, "/api/v1/agent/conversations/"+convID, token, nil, http.StatusOK, &conv)
	found := false
	for _, m := range conv.Transcript {
		found = found || (m.Role == "system" && strings.Contains(m.Text, "abandoned"))
	}
	if !found {
		t.Errorf("the conversation %s does not say the call was abandoned: %+v", convID, conv.Transcript)
	}
}

// quiet reports whether a PCMU payload is near silence.
func quiet(payload []byte) bool {
	for _, b := range payload {
		// μ-law codes 0x70-0x7F and 0xF0-0xFF are the smallest amplitudes.
		if b&0x70 != 0x70 {
			return false
		}
	}
	return true
}
