package sip

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
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

// freeUDPPort finds a port for sipp's RTP socket, so parallel test
// binaries do not fight over its default 6000.
func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

func lastBytes(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
