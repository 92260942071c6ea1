// Package scripts_test checks the set-up a user runs first: the Makefile's
// run and call targets and scripts/debs.sh, with fake apt-get, dpkg-query,
// go, sipp and sleep on the PATH, so nothing is installed or built.
package scripts_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fakes writes executable shell scripts named by the keys into a new
// folder, and returns a PATH with that folder first.
func fakes(t *testing.T, scripts map[string]string) (dir, path string) {
	t.Helper()
	dir = t.TempDir()
	for name, body := range scripts {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir, dir + string(os.PathListSeparator) + os.Getenv("PATH")
}

func run(t *testing.T, dir, path string, name string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PATH="+path)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func debs(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs("debs.sh")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// As root, debs.sh says what it installs and why, has apt-get wait for the
// dpkg lock, and retries the package lists while another apt holds them.
func TestDebsSaysWhatAndWhyAndWaitsForLocks(t *testing.T) {
	dir, path := fakes(t, map[string]string{
		"dpkg-query": "exit 1", // nothing installed
		"id":         "echo 0",
		"sleep":      "exit 0",
		"apt-get": `echo "apt-get $*" >> "$(dirname "$0")/apt.log"
case "$*" in *update*)
	n=$(grep -c update "$(dirname "$0")/apt.log")
	if [ "$n" -lt 3 ]; then echo "E: Could not get lock /var/lib/apt/lists/lock. It is held by process 7 (apt-get)" >&2; exit 100; fi;;
esac`,
	})
	out, err := run(t, dir, path, debs(t), "--for", "speech on phone calls", "flite", "pocketsphinx")
	if err != nil {
		t.Fatalf("debs.sh: %v\n%s", err, out)
	}
	if !strings.Contains(out, "installing Debian packages flite pocketsphinx for speech on phone calls\n") {
		t.Errorf("output does not say what and why:\n%s", out)
	}
	if !strings.Contains(out, "waiting for another apt") {
		t.Errorf("output does not say it waits for the lock:\n%s", out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "apt.log"))
	if err != nil {
		t.Fatal(err)
	}
	calls := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(calls) != 4 || !strings.Contains(calls[3], "install -y -qq flite pocketsphinx") {
		t.Fatalf("apt-get calls %q, want three updates (two found the lock held) and the install", calls)
	}
	for _, c := range calls {
		if !strings.Contains(c, "-o DPkg::Lock::Timeout=120") {
			t.Errorf("%q does not wait for the dpkg lock", c)
		}
	}
}

// Not as root, or with everything installed, debs.sh installs nothing.
func TestDebsWithoutRootOrWithNothingMissing(t *testing.T) {
	dir, path := fakes(t, map[string]string{
		"dpkg-query": `[ "$3" = flite ] && echo "install ok installed"; exit 0`,
		"id":         "echo 1000",
		"apt-get":    `echo "apt-get must not run" >&2; exit 1`,
	})
	out, err := run(t, dir, path, debs(t), "--for", "speech on phone calls", "flite", "pocketsphinx")
	if err == nil || !strings.Contains(out, "missing Debian packages pocketsphinx for speech on phone calls") ||
		!strings.Contains(out, "sudo apt-get install -y pocketsphinx") {
		t.Errorf("as a user with pocketsphinx missing: %v\n%s", err, out)
	}
	if out, err := run(t, dir, path, debs(t), "flite"); err != nil || out != "" {
		t.Errorf("with everything installed: %v, output %q; want silence", err, out)
	}
}

// repo is a folder that looks like the repository to make: its Makefile,
// scripts and configs, and a fake go whose build writes a fake binary that
// prints its arguments.
func repo(t *testing.T) (dir, path string) {
	t.Helper()
	dir, path = fakes(t, map[string]string{
		"go":         `mkdir -p "$(dirname "$3")"; printf '#!/bin/sh\necho switchboard "$@"\n' > "$3"; chmod +x "$3"`,
		"sipp":       `echo sipp "$@"`,
		"dpkg-query": `echo "install ok installed"`,
	})
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"Makefile", "scripts", "configs", "testdata"} {
		if err := os.Symlink(filepath.Join(root, name), filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	return dir, path
}

// make run says it is building before the first build, and passes HTTP and
// SIP to serve; make call calls SIP_TARGET.
func TestMakeRunAndCallTakePorts(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		if os.Getenv("SWITCHBOARD_NO_SKIP") == "1" {
			t.Fatalf("make is missing and SWITCHBOARD_NO_SKIP=1: %v", err)
		}
		t.Skip("no make")
	}
	dir, path := repo(t)
	out, err := run(t, dir, path, "make", "--no-print-directory", "run", "GO="+filepath.Join(dir, "go"), "HTTP=:8081", "SIP=:5061")
	if err != nil {
		t.Fatalf("make run: %v\n%s", err, out)
	}
	if !strings.Contains(out, "building bin/switchboard…") {
		t.Errorf("the first make run does not say it is building:\n%s", out)
	}
	if !strings.Contains(out, "switchboard serve --config configs/switchboard.yaml --http :8081 --sip :5061\n") {
		t.Errorf("make run HTTP=:8081 SIP=:5061 does not serve there:\n%s", out)
	}
	out, err = run(t, dir, path, "make", "--no-print-directory", "run", "GO="+filepath.Join(dir, "go"))
	if err != nil {
		t.Fatalf("make run: %v\n%s", err, out)
	}
	if strings.Contains(out, "building bin/switchboard…") || strings.Contains(out, "--http") || strings.Contains(out, "--sip") {
		t.Errorf("a second make run without ports: building again, or ports passed:\n%s", out)
	}
	out, err = run(t, dir, path, "make", "--no-print-directory", "call", "SIP_TARGET=127.0.0.1:5061")
	if err != nil {
		t.Fatalf("make call: %v\n%s", err, out)
	}
	if !strings.Contains(out, "sipp 127.0.0.1:5061 -sf testdata/sipp/call_press_zero.xml") {
		t.Errorf("make call SIP_TARGET=127.0.0.1:5061 does not call there:\n%s", out)
	}
}
