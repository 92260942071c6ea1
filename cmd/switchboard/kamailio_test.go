package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// The example in configs/kamailio, run as a user runs it: Kamailio's
// dispatcher in front of two gateways. Calls spread over both; a crashed
// instance is probed out and every new call goes to the other; restarted, it
// is probed back in; a call sent to an instance that has just stopped,
// before any probe noticed, fails over to the next one.
func TestKamailioSpreadsCallsAndFailsOver(t *testing.T) {
	tools := needTools(t, "kamailio", "kamcmd", "sipp", "flite", "pocketsphinx_continuous")
	bin := buildBinary(t)
	a, b := newInstance(t, bin), newInstance(t, bin)
	k := startKamailio(t, tools, a, b)
	k.waitState(t, a, "A")
	k.waitState(t, b, "A")

	// Calls spread over both instances; their ACK and BYE, and a CANCEL,
	// reach the instance that has the call.
	k.call(t, "proxy_call.xml", 6)
	eventually(t, "6 calls answered", func() bool { return a.calls(t, "answered")+b.calls(t, "answered") == 6 })
	if na, nb := a.calls(t, "answered"), b.calls(t, "answered"); na == 0 || nb == 0 {
		t.Errorf("answered: %d by one instance, %d by the other; want both to take calls", na, nb)
	}
	k.call(t, "proxy_cancel.xml", 1)
	eventually(t, "the cancelled call counted", func() bool { return a.calls(t, "canceled")+b.calls(t, "canceled") == 1 })

	// A crash: probing takes the instance out and every new call goes to
	// the other, none failing.
	a.crash(t)
	k.waitState(t, a, "I")
	before := b.calls(t, "answered")
	k.call(t, "proxy_call.xml", 4)
	eventually(t, "4 more calls answered by the survivor", func() bool { return b.calls(t, "answered") == before+4 })

	// Restarted on the same address, it is probed back in and takes calls.
	a.start(t, bin)
	k.waitState(t, a, "A")
	before = b.calls(t, "answered")
	k.call(t, "proxy_call.xml", 4)
	eventually(t, "4 calls answered", func() bool { return a.calls(t, "answered")+b.calls(t, "answered")-before == 4 })
	if a.calls(t, "answered") == 0 {
		t.Error("the restarted instance took no calls")
	}

	// Stopped just now, before a probe notices: the call sent to it gets no
	// answer and goes to the other instance; the caller sees no failure.
	b.stop(t)
	before = a.calls(t, "answered")
	k.call(t, "proxy_call.xml", 4)
	eventually(t, "4 calls answered by the survivor", func() bool { return a.calls(t, "answered") == before+4 })
	if want := "fails over to sip:" + a.sip; !strings.Contains(k.log.String(), want) {
		t.Errorf("kamailio's log lacks %q:\n%s", want, tail(k.log.String(), 3000))
	}
	k.waitState(t, b, "I")
}

// needTools finds programs in PATH or, for Kamailio's, in the sbin
// folders a user's PATH may lack; it skips the test when one is missing,
// or fails it under SWITCHBOARD_NO_SKIP=1.
func needTools(t *testing.T, names ...string) map[string]string {
	t.Helper()
	found := make(map[string]string, len(names))
	for _, name := range names {
		path, err := exec.LookPath(name)
		for _, dir := range []string{"/usr/sbin", "/usr/local/sbin"} {
			if err != nil {
				path, err = exec.LookPath(filepath.Join(dir, name))
			}
		}
		if err != nil {
			if os.Getenv("SWITCHBOARD_NO_SKIP") == "1" {
				t.Fatalf("%s is missing and SWITCHBOARD_NO_SKIP=1 (make deps installs it): %v", name, err)
			}
			t.Skipf("%s is missing: %v", name, err)
		}
		found[name] = path
	}
	return found
}

// instance is one gateway behind the proxy, with its own config (RTP
// ports), data folder and SIP port, kept across a restart.
type instance struct {
	*server
	cfg, data, sip string
}

func newInstance(t *testing.T, bin string) *instance {
	t.Helper()
	cfg := filepath.Join(configDir(t), "switchboard.yaml")
	rtp := freePorts(t, 41)
	rtp += rtp % 2 // RTP takes an even port, RTCP the next
	editFile(t, cfg, "rtp_ports: {min: 20000, max: 29998}", fmt.Sprintf("rtp_ports: {min: %d, max: %d}", rtp, rtp+39))
	// Ringing for a second gives the CANCEL its moment.
	editFile(t, cfg, "ring_before_answer: 0s", "ring_before_answer: 1s")
	in := &instance{cfg: cfg, data: t.TempDir(), sip: fmt.Sprintf("127.0.0.1:%d", freePorts(t, 1))}
	in.start(t, bin)
	return in
}

// start runs the gateway in a process group of its own, so that a crash
// takes its speech helpers with it.
func (in *instance) start(t *testing.T, bin string) {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--config", in.cfg, "--http", "127.0.0.1:0", "--sip", in.sip, "--data", in.data)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	in.server = launch(t, cmd)
	pid := cmd.Process.Pid
	t.Cleanup(func() { _ = syscall.Kill(-pid, syscall.SIGKILL) })
}

// crash kills the gateway and its helpers at once.
func (in *instance) crash(t *testing.T) {
	t.Helper()
	if err := syscall.Kill(-in.cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	in.exited(t)
}

// stop asks the gateway to stop, as an operator does before an upgrade.
func (in *instance) stop(t *testing.T) {
	t.Helper()
	if err := in.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	in.exited(t)
}

func (in *instance) exited(t *testing.T) {
	t.Helper()
	select {
	case err := <-in.done:
		in.done <- err // for the cleanup
	case <-time.After(20 * time.Second):
		t.Fatalf("gateway at %s did not exit", in.sip)
	}
}

// calls is the gateway's switchboard_sip_calls_total for result.
func (in *instance) calls(t *testing.T, result string) int {
	t.Helper()
	_, body := in.get(t, "/metrics")
	series := `switchboard_sip_calls_total{result="` + result + `"} `
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, series); ok {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return int(n)
		}
	}
	return 0
}

// kamailio runs configs/kamailio/kamailio.cfg in the foreground, with its
// own listen port, control socket, runtime folder and dispatcher.list, and
// probing every second.
type kamailio struct {
	cmd    *exec.Cmd
	addr   string // where callers send
	ctl    string // kamcmd's socket
	kamcmd string
	sipp   string
	log    *syncBuffer
	done   chan error
}

func startKamailio(t *testing.T, tools map[string]string, instances ...*instance) *kamailio {
	t.Helper()
	dir := t.TempDir()
	list := "# written by kamailio_test.go\n"
	for _, in := range instances {
		list += fmt.Sprintf("1 sip:%s 8 0\n", in.sip)
	}
	listPath := filepath.Join(dir, "dispatcher.list")
	if err := os.WriteFile(listPath, []byte(list), 0o644); err != nil {
		t.Fatal(err)
	}
	shipped, err := filepath.Abs(filepath.Join("..", "..", "configs", "kamailio"))
	if err != nil {
		t.Fatal(err)
	}
	k := &kamailio{addr: fmt.Sprintf("127.0.0.1:%d", freePorts(t, 1)), ctl: "unix:" + filepath.Join(dir, "ctl"),
		kamcmd: tools["kamcmd"], sipp: tools["sipp"], log: &syncBuffer{}, done: make(chan error, 1)}
	k.cmd = exec.Command(tools["kamailio"], "-DD", "-E", "-f", filepath.Join(shipped, "kamailio.cfg"),
		"-Y", dir, "-P", filepath.Join(dir, "kamailio.pid"), "-w", dir,
		"-A", "LISTEN=udp:"+k.addr,
		"-A", fmt.Sprintf("DISPATCHER_LIST=%q", listPath),
		"-A", fmt.Sprintf("TRUNKS_LIST=%q", filepath.Join(shipped, "trunks.list")),
		"-A", fmt.Sprintf("CTL_SOCKET=%q", k.ctl),
		"-A", "PING_INTERVAL=1", "-A", "FR_TIMER=2000", "-A", "CHILDREN=2")
	k.cmd.Stdout, k.cmd.Stderr = k.log, k.log
	k.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := k.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { k.done <- k.cmd.Wait() }()
	t.Cleanup(func() {
		_ = k.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-k.done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-k.cmd.Process.Pid, syscall.SIGKILL)
			<-k.done
		}
	})
	return k
}

var destRE = regexp.MustCompile(`URI: sip:(\S+)\s+FLAGS: (\S+)`)

// states asks Kamailio for its view of the instances: address → FLAGS
// ("AP" active and probed, "IP" inactive and probed); nil while its
// control socket is not up.
func (k *kamailio) states() map[string]string {
	out, err := exec.Command(k.kamcmd, "-s", k.ctl, "dispatcher.list").CombinedOutput()
	if err != nil {
		return nil
	}
	m := make(map[string]string)
	for _, sm := range destRE.FindAllStringSubmatch(string(out), -1) {
		m[sm[1]] = sm[2]
	}
	return m
}

// waitState polls until Kamailio's state of in starts with state: "A"
// (active) or "I" (inactive).
func (k *kamailio) waitState(t *testing.T, in *instance, state string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		got := k.states()
		if strings.HasPrefix(got[in.sip], state) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("kamailio never marked %s %q; states %v\n%s", in.sip, state, got, tail(k.log.String(), 3000))
		}
		select {
		case err := <-k.done:
			t.Fatalf("kamailio exited: %v\n%s", err, tail(k.log.String(), 3000))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// call places n calls at once through the proxy with a scenario of
// testdata/sipp, and fails the test unless every one succeeds.
func (k *kamailio) call(t *testing.T, scenario string, n int) {
	t.Helper()
	scen, err := filepath.Abs(filepath.Join("..", "..", "testdata", "sipp", scenario))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	messages := filepath.Join(dir, "messages.log")
	cmd := exec.Command(k.sipp, k.addr, "-sf", scen, "-s", "support", "-i", "127.0.0.1",
		"-p", strconv.Itoa(freePorts(t, 1)), "-mp", strconv.Itoa(freePorts(t, 6)),
		"-m", strconv.Itoa(n), "-l", strconv.Itoa(n), "-r", "20", "-nostdin",
		"-timeout", "60s", "-timeout_error", "-trace_msg", "-message_file", messages,
		"-trace_err", "-error_file", filepath.Join(dir, "errors.log"))
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		trace, _ := os.ReadFile(messages)
		t.Fatalf("sipp %s (%d calls) through kamailio: %v\n%s\nmessages:\n%s\nkamailio:\n%s", scenario, n, err,
			tail(string(out), 2000), tail(string(trace), 6000), tail(k.log.String(), 3000))
	}
}

// editFile replaces old, which must be there, with new.
func editFile(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(old)) {
		t.Fatalf("%s has no %q", path, old)
	}
	if err := os.WriteFile(path, bytes.Replace(b, []byte(old), []byte(new), 1), 0o600); err != nil {
		t.Fatal(err)
	}
}

// nextPort hands out loopback ports from 18000-18999, a range no other
// test uses (channels/voice/rig_test.go lists the others) and below the
// kernel's ephemeral range, so that nothing else takes a port between the
// check and its use.
var nextPort atomic.Int32

// freePorts returns the first of n consecutive ports free for UDP and TCP.
func freePorts(t *testing.T, n int) int {
	t.Helper()
	for {
		base := 18000 + int(nextPort.Add(int32(n))) - n
		if base+n > 19000 {
			t.Fatal("test port range 18000-18999 exhausted")
		}
		if portsFree(base, n) {
			return base
		}
	}
}

func portsFree(base, n int) bool {
	for p := base; p < base+n; p++ {
		u, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p})
		if err != nil {
			return false
		}
		u.Close()
		l, err := net.Listen("tcp", u.LocalAddr().String())
		if err != nil {
			return false
		}
		l.Close()
	}
	return true
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("never happened: %s", what)
		}
		<-time.After(50 * time.Millisecond)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// syncBuffer collects a process's output while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
