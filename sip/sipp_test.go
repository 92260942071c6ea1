package sip

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestSippScenarios runs real sipp (Debian's sip-tester) as the trunk
// against the server: an OPTIONS health check and a call it hangs up.
func TestSippScenarios(t *testing.T) {
	sipp, err := exec.LookPath("sipp")
	if err != nil {
		if os.Getenv("SWITCHBOARD_NO_SKIP") == "1" {
			t.Fatalf("sipp not installed: %v", err)
		}
		t.Skip("sipp not installed (apt install sip-tester)")
	}
	h := newAnswering()
	s := startServer(t, Config{UDP: "127.0.0.1:0"}, h)

	runSipp(t, sipp, "uac_options.xml", s.Addr("udp"))

	runSipp(t, sipp, "uac_invite_bye.xml", s.Addr("udp"))
	c := recv(t, h.calls, "sipp's call")
	if r := recv(t, h.answers, "answer"); r.err != nil || r.ans.Codec.Name != "PCMU" {
		t.Fatalf("answer %+v %v, want PCMU", r.ans, r.err)
	}
	waitDone(t, c.Done(), "sipp's call")
	if !errors.Is(c.Err(), ErrRemoteHangup) {
		t.Errorf("call ended with %v, want sipp's BYE", c.Err())
	}
}

func runSipp(t *testing.T, sipp, scenario, target string) {
	t.Helper()
	sf, err := filepath.Abs(filepath.Join("..", "testdata", "sipp", scenario))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir := t.TempDir()
	cmd := exec.CommandContext(ctx, sipp, "-sf", sf, "-i", "127.0.0.1", "-mp", strconv.Itoa(freeUDPPort(t)),
		"-m", "1", "-timeout", "20s", "-timeout_error", "-nostdin", "-trace_err", target)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		logs, _ := filepath.Glob(filepath.Join(dir, "*_errors.log"))
		var errs []byte
		for _, l := range logs {
			b, _ := os.ReadFile(l)
			errs = append(errs, b...)
		}
		t.Fatalf("sipp %s: %v\n%s\nerrors:\n%s", scenario, err, lastBytes(out, 3000), errs)
	}
}

// nextBlock numbers the blocks of 8 ports freeUDPPort hands out from
// 16000-16999: below the kernel's ephemeral range, so no other socket takes
// a port between the check and sipp binding it (channels/voice's tests use
// 11000-15999).
var nextBlock atomic.Int32

// freeUDPPort finds ports for sipp's RTP sockets (-mp, -mp+2), so parallel
// test binaries do not fight over its default 6000.
func freeUDPPort(t *testing.T) int {
	t.Helper()
	for {
		base := 16000 + 8*int(nextBlock.Add(1)-1)
		if base+8 > 17000 {
			t.Fatal("test port range 16000-16999 exhausted")
		}
		if bindable(base) && bindable(base+2) {
			return base
		}
	}
}

func bindable(port int) bool {
	c, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return false
	}
	c.Close()
	return true
}

func lastBytes(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// sippUAS is sipp playing the far end of a Dial.
type sippUAS struct {
	target   string
	messages string
	out      strings.Builder
	done     chan error
}

// startSippUAS runs a scenario from testdata/sipp as a server on a free
// loopback port, and returns once it listens.
func startSippUAS(t *testing.T, scenario string) *sippUAS {
	t.Helper()
	sipp, err := exec.LookPath("sipp")
	if err != nil {
		if os.Getenv("SWITCHBOARD_NO_SKIP") == "1" {
			t.Fatalf("sipp not installed: %v", err)
		}
		t.Skip("sipp not installed (apt install sip-tester)")
	}
	sf, err := filepath.Abs(filepath.Join("..", "testdata", "sipp", scenario))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	port := freeUDPPort(t)
	u := &sippUAS{target: fmt.Sprintf("sip:support-desk@127.0.0.1:%d", port), messages: filepath.Join(dir, "messages.log"), done: make(chan error, 1)}
	cmd := exec.Command(sipp, "-sf", sf, "-i", "127.0.0.1", "-p", strconv.Itoa(port), "-mp", strconv.Itoa(freeUDPPort(t)),
		"-m", "1", "-timeout", "30s", "-timeout_error", "-nostdin", "-trace_msg", "-message_file", u.messages,
		"-trace_err", "-error_file", filepath.Join(dir, "errors.log"))
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = &u.out, &u.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { u.done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-u.done
	})
	// Bound: sipp has the port once ours cannot take it.
	eventually(t, "sipp listening", func() bool { return !bindable(port) })
	return u
}

// wait waits for sipp to pass its scenario and returns its message trace.
func (u *sippUAS) wait(t *testing.T) string {
	t.Helper()
	select {
	case err := <-u.done:
		u.done <- err
		trace, _ := os.ReadFile(u.messages)
		if err != nil {
			t.Fatalf("sipp: %v\n%s\nmessages:\n%s", err, lastBytes([]byte(u.out.String()), 3000), lastBytes(trace, 6000))
		}
		return string(trace)
	case <-time.After(waitFor):
		trace, _ := os.ReadFile(u.messages)
		t.Fatalf("sipp did not finish\nmessages:\n%s", lastBytes(trace, 6000))
	}
	return ""
}

var traceMessage = regexp.MustCompile(`(?m)^(?:UDP|TCP) message received \[\d+\] bytes :\n\n((?:.+\n)+)`)

// received returns the requests of a method in sipp's message trace.
func received(trace, method string) []string {
	var out []string
	for _, m := range traceMessage.FindAllStringSubmatch(trace, -1) {
		if strings.HasPrefix(m[1], method+" ") {
			out = append(out, m[1])
		}
	}
	return out
}

// headerIn returns a header's value in a message's text.
func headerIn(msg, name string) string {
	for _, line := range strings.Split(msg, "\n") {
		if n, v, ok := strings.Cut(strings.TrimRight(line, "\r"), ":"); ok && strings.EqualFold(n, name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// A flood of INVITEs from one address (sipp from 127.0.0.2, as fast as it
// can up to 5,000 a second) is refused and then dropped past the shipped
// limits, while a call from another address (127.0.0.1) completes.
func TestFloodFromOneSourceLeavesOthersAnswered(t *testing.T) {
	sipp, err := exec.LookPath("sipp")
	if err != nil {
		if os.Getenv("SWITCHBOARD_NO_SKIP") == "1" {
			t.Fatalf("sipp not installed: %v", err)
		}
		t.Skip("sipp not installed (apt install sip-tester)")
	}
	h := newAnswering()
	flooder := HandlerFunc(func(ctx context.Context, c *Call) {
		if c.From() == "flood" {
			_ = c.Reject(486, "", "")
			return
		}
		h.HandleCall(ctx, c)
	})
	limits := Limits{Invite: Rate{PerSecond: 100, Burst: 200}, Options: Rate{PerSecond: 20, Burst: 40},
		Other: Rate{PerSecond: 400, Burst: 800}, DropAfter: 20}
	s := startServer(t, Config{UDP: "127.0.0.1:0", Limits: limits}, flooder)

	sf, err := filepath.Abs(filepath.Join("..", "testdata", "sipp", "flood_invite.xml"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	flood := exec.CommandContext(ctx, sipp, "-sf", sf, "-i", "127.0.0.2", "-p", "0", "-r", "5000", "-m", "100000",
		"-nostdin", "-timeout", "50s", s.Addr("udp"))
	flood.Dir = t.TempDir()
	if err := flood.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = flood.Process.Kill(); _ = flood.Wait() }()
	eventually(t, "the flood reaching its drop threshold", func() bool {
		return toFloat(s.metrics.limited.WithLabelValues("invite", "dropped")) > 0
	})

	runSipp(t, sipp, "uac_invite_bye.xml", s.Addr("udp"))
	c := recv(t, h.calls, "the call from 127.0.0.1")
	if r := recv(t, h.answers, "answer"); r.err != nil {
		t.Fatalf("answer: %v", r.err)
	}
	waitDone(t, c.Done(), "the call from 127.0.0.1")
	if !errors.Is(c.Err(), ErrRemoteHangup) {
		t.Errorf("the call ended with %v, want sipp's BYE", c.Err())
	}
	refused := toFloat(s.metrics.limited.WithLabelValues("invite", "refused"))
	dropped := toFloat(s.metrics.limited.WithLabelValues("invite", "dropped"))
	t.Logf("flood: %.0f INVITEs refused with 503, %.0f dropped", refused, dropped)
	if refused == 0 || dropped <= refused {
		t.Errorf("refused %v, dropped %v: want a few refusals and the rest of the flood dropped", refused, dropped)
	}
}
