package gateway

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"switchboard/config"
	"switchboard/store"
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

// A carrier that challenges the bridge INVITE (407) gets the credentials
// the config names, once, and the caller is bridged. Before the gateway
// passed channels.voice.outbound_* to the SIP server, the challenge failed
// the transfer.
func TestVoiceBridgeAnswersCarrierChallenge(t *testing.T) {
	if _, err := exec.LookPath("sipp"); err != nil {
		if os.Getenv("SWITCHBOARD_NO_SKIP") != "" {
			t.Fatalf("sipp is not installed: %v", err)
		}
		t.Skip("sipp is not installed (apt install sip-tester)")
	}
	const password = "s3cret-carrier"
	carrierPort := freeUDPPort(t)
	cfg := fixture(t)
	edit(t, cfg, "uri: sip:support-desk@127.0.0.1:5070", fmt.Sprintf("uri: sip:support-desk@127.0.0.1:%d", carrierPort))
	edit(t, cfg, "method: refer_then_bridge", "method: bridge")
	edit(t, cfg, `outbound_username: ""`, "outbound_username: switchboard")
	edit(t, cfg, `outbound_password_env: ""`, "outbound_password_env: SWITCHBOARD_TEST_OUTBOUND_PASSWORD")
	t.Setenv("SWITCHBOARD_TEST_OUTBOUND_PASSWORD", password)
	carrier := startSipp(t, filepath.Join("..", "testdata", "sipp", "bridge_challenge_407.xml"), "", carrierPort)
	g, stop := start(t, cfg)
	defer func() {
		if err := stop(); err != nil {
			t.Error(err)
		}
	}()
	caller := startSipp(t, renderCaller(t, callerScript{PT: 0, Codec: "PCMU", PauseMs: 1500,
		Play:  `<exec play_pcap_audio="/usr/share/sip-tester/dtmf_2833_0.pcap"/>`,
		Refer: "none", After: "send_bye", ByeAfterMs: 9000}), g.SIPAddr("udp"), freeUDPPort(t))
	caller.wait(t, 60*time.Second)
	trace := carrier.wait(t, 30*time.Second)

	invites := sippMessages(trace, "INVITE")
	if len(invites) != 2 {
		t.Fatalf("the carrier got %d INVITEs, want the challenged one and its retry", len(invites))
	}
	if err := checkDigest(invites[1], "Proxy-Authorization", "switchboard", password); err != nil {
		t.Errorf("retried INVITE: %v", err)
	}
	if !strings.Contains(invites[1], "X-Switchboard-Conversation:") {
		t.Error("the retried INVITE lost the context headers")
	}
	convs, err := g.Store().ListConversations(t.Context(), store.ListFilter{})
	if err != nil || len(convs) != 1 {
		t.Fatalf("conversations: %v, %v", convs, err)
	}
	msgs, err := g.Store().Messages(t.Context(), convs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	var bridged bool
	for _, m := range msgs {
		bridged = bridged || strings.Contains(m.Text, "Bridged to support_line")
	}
	if !bridged {
		t.Errorf("no bridge in the conversation:\n%v", msgs)
	}
}

// optionsStatus sends an OPTIONS from a fresh UDP socket on 127.0.0.1 and
// returns the status code of the answer.
func optionsStatus(t *testing.T, addr, callID string) string {
	t.Helper()
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	local := c.LocalAddr().String()
	opts := "OPTIONS sip:support@" + addr + " SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP " + local + ";branch=z9hG4bK-" + callID + "\r\n" +
		"From: <sip:probe@" + local + ">;tag=1\r\nTo: <sip:support@" + addr + ">\r\n" +
		"Call-ID: " + callID + "\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
	if _, err := c.Write([]byte(opts)); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 4096)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("OPTIONS %s: no answer: %v", callID, err)
	}
	status, _, _ := strings.Cut(strings.TrimPrefix(string(buf[:n]), "SIP/2.0 "), " ")
	return status
}

// A reload applies the trunks at the next request: narrowing allow cuts a
// source off, widening it again lets it back in. Nothing waits for a
// restart, and an invalid trunk rejects the reload with the old ones kept.
func TestReloadAppliesTrunkChanges(t *testing.T) {
	cfg := fixture(t)
	g, stop := start(t, cfg)
	defer stop()
	addr := g.SIPAddr("udp")
	if got := optionsStatus(t, addr, "trunk-1"); got != "200" {
		t.Fatalf("before the reload: %s, want 200", got)
	}
	edit(t, cfg, `allow: [127.0.0.0/8, "::1/128"]`, `allow: [203.0.113.0/24]`)
	if err := g.Reload(); err != nil {
		t.Fatalf("reload: %v", err)
	}
	if got := optionsStatus(t, addr, "trunk-2"); got != "403" {
		t.Fatalf("after narrowing allow: %s, want 403", got)
	}
	edit(t, cfg, `allow: [203.0.113.0/24]`, `allow: [127.0.0.1/32]`)
	if err := g.Reload(); err != nil {
		t.Fatalf("reload: %v", err)
	}
	if got := optionsStatus(t, addr, "trunk-3"); got != "200" {
		t.Fatalf("after widening allow: %s, want 200", got)
	}
	edit(t, cfg, `allow: [127.0.0.1/32]`, `allow: [127.0.0.1/33]`)
	if err := g.Reload(); err == nil {
		t.Fatal("a reload with a bad CIDR was accepted")
	}
	if got := optionsStatus(t, addr, "trunk-4"); got != "200" {
		t.Fatalf("after a rejected reload: %s, want 200 (old trunks kept)", got)
	}
}

// A reload names each voice and speech key it cannot apply until a
// restart.
func TestRestartKeys(t *testing.T) {
	base, err := config.Load(fixture(t))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		edit func(c *config.Config)
		want []string
	}{
		{"nothing", func(*config.Config) {}, nil},
		{"greeting follows the reload", func(c *config.Config) { c.Channels.Voice.Greeting = "Hi" }, nil},
		{"trunks follow the reload", func(c *config.Config) { c.Channels.Voice.Trunks = nil }, nil},
		{"rtp ports", func(c *config.Config) { c.Channels.Voice.RTPPorts.Max++ }, []string{"channels.voice.rtp_ports"}},
		{"outbound and tts", func(c *config.Config) { c.Channels.Voice.Outbound = "sip:x.example"; c.Speech.TTS.Voice = "kal" },
			[]string{"channels.voice.outbound", "speech.tts"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := *base
			tt.edit(&c)
			if got := restartKeys(base, &c); !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
