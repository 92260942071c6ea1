package gateway

// Helpers for the tests that drive the gateway with sipp, Debian's
// sip-tester, as callers and as the lines calls are bridged to.

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
	"sync/atomic"
	"testing"
	"text/template"
	"time"

	"github.com/icholy/digest"
)

// callerScript fills testdata/sipp/voice_caller.xml.tmpl (see
// channels/voice's tests for every field).
type callerScript struct {
	PT                    int
	Codec                 string
	Stream                bool
	PauseMs, PauseThenMs  int
	Play, PlayThen        string
	Refer, PlayAfterRefer string
	After                 string
	ByeAfterMs, TimeoutMs int
}

// checkDigest verifies a request's digest credentials the way the carrier
// would.
func checkDigest(msg, header, user, password string) error {
	value := ""
	for _, line := range strings.Split(msg, "\n") {
		if n, v, ok := strings.Cut(strings.TrimRight(line, "\r"), ":"); ok && strings.EqualFold(n, header) {
			value = strings.TrimSpace(v)
		}
	}
	creds, err := digest.ParseCredentials(value)
	if err != nil {
		return fmt.Errorf("%s %q: %w", header, value, err)
	}
	chal := &digest.Challenge{Realm: creds.Realm, Nonce: creds.Nonce, Algorithm: creds.Algorithm, Opaque: creds.Opaque}
	if creds.QOP != "" {
		chal.QOP = []string{creds.QOP}
	}
	want, err := digest.Digest(chal, digest.Options{Method: "INVITE", URI: creds.URI, Username: user,
		Password: password, Cnonce: creds.Cnonce, Count: creds.Nc})
	if err != nil {
		return err
	}
	if creds.Username != user || want.Response != creds.Response {
		return fmt.Errorf("%s %q is not %s's with the configured password", header, value, user)
	}
	return nil
}

// renderCaller fills the caller template into the test's folder.
func renderCaller(t *testing.T, c callerScript) string {
	t.Helper()
	tmpl, err := template.ParseFiles(filepath.Join("..", "testdata", "sipp", "voice_caller.xml.tmpl"))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := tmpl.Execute(&b, c); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "voice_caller.xml")
	if err := os.WriteFile(out, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return out
}

// sippRun is one sipp process, a caller (target set) or a server.
type sippRun struct {
	out      bytes.Buffer
	messages string
	done     chan error
}

func startSipp(t *testing.T, scenario, target string, port int) *sippRun {
	t.Helper()
	scenario, err := filepath.Abs(scenario)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	r := &sippRun{messages: filepath.Join(dir, "messages.log"), done: make(chan error, 1)}
	args := []string{"-sf", scenario, "-i", "127.0.0.1", "-p", strconv.Itoa(port), "-mp", strconv.Itoa(freeUDPPort(t)),
		"-m", "1", "-nostdin", "-timeout", "60s", "-timeout_error", "-s", "support",
		"-trace_msg", "-message_file", r.messages, "-trace_err", "-error_file", filepath.Join(dir, "errors.log")}
	if target != "" {
		args = append([]string{target}, args...)
	}
	cmd := exec.Command("sipp", args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = &r.out, &r.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-r.done
	})
	if target == "" {
		// A server is up once the port is taken.
		deadline := time.Now().Add(10 * time.Second)
		for bindable(port) {
			if time.Now().After(deadline) {
				t.Fatal("sipp never bound its port")
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	return r
}

// wait fails the test unless sipp passes its scenario within d, and
// returns its message trace.
func (r *sippRun) wait(t *testing.T, d time.Duration) string {
	t.Helper()
	trace := func() string { b, _ := os.ReadFile(r.messages); return string(b) }
	select {
	case err := <-r.done:
		r.done <- err
		if err != nil {
			t.Fatalf("sipp failed: %v\n%s\nmessages:\n%s", err, lastN(r.out.String(), 3000), lastN(trace(), 8000))
		}
	case <-time.After(d):
		t.Fatalf("sipp did not finish within %v\nmessages:\n%s", d, lastN(trace(), 8000))
	}
	return trace()
}

var sippReceived = regexp.MustCompile(`(?m)^(?:UDP|TCP) message received \[\d+\] bytes :\n\n((?:.+\n)+)`)

// sippMessages returns the requests of a method sipp received.
func sippMessages(trace, method string) []string {
	var out []string
	for _, m := range sippReceived.FindAllStringSubmatch(trace, -1) {
		if strings.HasPrefix(m[1], method+" ") {
			out = append(out, m[1])
		}
	}
	return out
}

func lastN(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// nextPort numbers the blocks of 8 loopback ports freeUDPPort hands out
// from 19000-19999, a range no other package's tests use.
var nextPort atomic.Int32

func freeUDPPort(t *testing.T) int {
	t.Helper()
	for {
		base := 19000 + 8*int(nextPort.Add(1)-1)
		if base+8 > 20000 {
			t.Fatal("test port range 19000-19999 exhausted")
		}
		if bindable(base) && bindable(base+2) && bindable(base+4) {
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
