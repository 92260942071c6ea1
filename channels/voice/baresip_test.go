package voice_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"switchboard/speech"
)

// A real softphone, not a scripted one: baresip calls the gateway offering
// G.722, says "I want to speak to a human agent" from a WAV file and gets
// the REFER. baresip 1.0.0 cannot follow it: it copies Refer-To into a
// 256-byte buffer, and ours, with the context headers, is far longer, so it
// dials nothing and NOTIFYs "500 Call Error". The gateway then bridges the
// caller to the support line itself, with the context headers, and the
// support line hears the caller. Should baresip ever follow the REFER, this
// test fails on the notes below and should assert the REFER path instead.
func TestBaresipSoftphoneIsTransferred(t *testing.T) {
	t.Parallel()
	need(t, "baresip", "sipp")
	media := listenRTP(t)
	targetPort := freeUDPPort(t)
	r := newRig(t, fmt.Sprintf("sip:support-desk@127.0.0.1:%d", targetPort), "refer_then_bridge", nil)
	target := startSipp(t, scenario(t, "voice_fallback.xml.tmpl", fallback{Answer: "answer", MediaPort: media.port,
		HangUp: true, ByeAfterMs: 15000}), "", targetPort)
	phone := startBaresip(t, "sip:support@"+r.sipAddr.String(), callerSpeech(t))
	phone.whileRunning(t, target, 90*time.Second)

	conv, msgs, hs := r.conversation(t)
	if len(hs) != 1 || hs[0].Trigger != "explicit_request" || hs[0].Target != "support_line" {
		t.Fatalf("handoffs = %+v, want one explicit_request to support_line", hs)
	}
	if conv.Customer != "+15551230002" {
		t.Errorf("customer = %q, want baresip's number", conv.Customer)
	}
	wantMessages(t, msgs, "human agent", "REFER to support_line failed: refer failed at notify: 500",
		"Bridged to support_line")
	// baresip accepted the REFER (202) and reported the failure in a NOTIFY.
	if n := counterWith(t, r, "switchboard_sip_refers_total", "result", "failed"); n != 1 {
		t.Errorf(`switchboard_sip_refers_total{result="failed"} = %v, want 1 (NOTIFY with a failure)`, n)
	}
	if n := counterWith(t, r, "switchboard_voice_transfers_total", "method", "bridge", "result", "ok"); n != 1 {
		t.Errorf(`switchboard_voice_transfers_total{method="bridge",result="ok"} = %v, want 1`, n)
	}
	invite := sipMessage(t, target.trace(), "INVITE")
	if got := header(invite, "X-Switchboard-Conversation"); got != string(conv.ID) {
		t.Errorf("X-Switchboard-Conversation = %q, want %s", got, conv.ID)
	}
	if n := media.loud.Load(); n < 100 {
		t.Errorf("the support line got %d packets of the caller's speech, want many", n)
	}
	// The support line hung up; the gateway passes it on to the softphone.
	eventually(t, "the gateway hangs up baresip's call", func() bool {
		return counter(t, r, "switchboard_sip_active_calls") == 0 && strings.Contains(phone.out.String(), "BYE sip:+15551230002")
	})
	if out := phone.out.String(); !strings.Contains(out, "audio: Set audio encoder: G722") {
		t.Errorf("baresip did not send G.722:\n%s", tail(out, 6000))
	}
}

// callerSpeech is what baresip says: the request, a pause in which the
// gateway transfers the call, then a minute of talk for the support line to
// hear. baresip hangs up when its file runs out, so the file outlasts the
// call; the talk is a greeting so that the AI, should it still listen, is
// not asked for a second handoff.
func callerSpeech(t *testing.T) speech.Audio {
	t.Helper()
	ask, talk := readWAV(t, "human_agent.wav"), readWAV(t, "greeting.wav")
	a := speech.Audio{Rate: ask.Rate, PCM: append(ask.PCM, make([]int16, 6*ask.Rate)...)}
	for len(a.PCM) < 70*a.Rate {
		a.PCM = append(a.PCM, talk.PCM...)
	}
	return a
}

func readWAV(t *testing.T, name string) speech.Audio {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "audio", name))
	if err != nil {
		t.Fatal(err)
	}
	a, err := speech.DecodeWAV(b)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// baresipRun is one headless baresip: no UI, no sound card; it speaks a WAV
// file through the aufile module and, with no player module, plays nothing.
type baresipRun struct {
	cmd  *exec.Cmd
	out  lockedBuffer // its log and SIP trace
	done chan error
}

// baresipConfig is baresip 1.0.0's config file: loopback only, RTP ports
// away from the gateway's, G.722 and G.711, the WAV file as the
// microphone, and menu, which carries out /dial and REFER.
const baresipConfig = `poll_method		epoll
sip_listen		127.0.0.1:0
net_interface		127.0.0.1
call_local_timeout	60
audio_source		aufile,%s
ausrc_srate		16000
rtp_ports		17000-17998
module_path		/usr/lib/baresip/modules
module			g722.so
module			g711.so
module			aufile.so
module_tmp		account.so
module_app		menu.so
`

// startBaresip runs baresip from a config folder of its own, plays said
// and dials uri at once.
func startBaresip(t *testing.T, uri string, said speech.Audio) *baresipRun {
	t.Helper()
	dir := t.TempDir()
	wav := filepath.Join(dir, "speech.wav")
	files := map[string][]byte{
		"speech.wav": speech.EncodeWAV(said),
		"config":     fmt.Appendf(nil, baresipConfig, wav),
		// No registration; G.722 first. aufile needs 16 kHz: ausrc_srate
		// resamples it should the gateway choose G.711.
		"accounts": []byte("<sip:+15551230002@127.0.0.1>;regint=0;audio_codecs=G722/16000/1,PCMU,PCMA\n"),
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b := &baresipRun{done: make(chan error, 1)}
	// -s traces SIP for the failure log; -t bounds a softphone left behind
	// by a test binary that died.
	b.cmd = exec.Command("baresip", "-4", "-s", "-f", dir, "-t", "180", "-e", "/dial "+uri)
	b.cmd.Dir = dir
	b.cmd.Env = append(os.Environ(), "HOME="+dir)
	b.cmd.Stdout, b.cmd.Stderr = &b.out, &b.out
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { b.done <- b.cmd.Wait() }()
	t.Cleanup(func() {
		_ = b.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-b.done:
		case <-time.After(10 * time.Second):
			_ = b.cmd.Process.Kill()
			<-b.done
		}
		if t.Failed() {
			t.Logf("baresip:\n%s", tail(b.out.String(), 20000))
		}
	})
	return b
}

// whileRunning waits for sipp to finish, failing at once if baresip quits
// first: a softphone that gave up leaves sipp waiting for nothing.
func (b *baresipRun) whileRunning(t *testing.T, s *sippRun, d time.Duration) {
	t.Helper()
	select {
	case err := <-b.done:
		b.done <- err // for Cleanup
		t.Fatalf("baresip quit (%v) before sipp finished\nsipp's messages:\n%s", err, s.trace())
	case err := <-s.done:
		s.done <- err
		s.wait(t, time.Second) // it has finished: this reports how
	case <-time.After(d):
		t.Fatalf("sipp did not finish within %v\nmessages:\n%s", d, s.trace())
	}
}

// counterWith is the value of one series of a metric family of the rig's
// registry, chosen by label pairs.
func counterWith(t *testing.T, r *rig, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := r.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for i := 0; i+1 < len(labels); i += 2 {
				if have[labels[i]] != labels[i+1] {
					continue series
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

// lockedBuffer collects a process's output while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
