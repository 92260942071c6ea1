// Command sbload is the web chat's load generator, run by `make bench`
// (scripts/webload.sh). It opens N conversations on a running gateway and
// holds their WebSocket streams; once they are all open and idle it reads
// the gateway's memory per conversation; then each conversation asks a
// question every interval (jittered) and it times each AI reply. Every
// message goes through the store, the handoff policy and the embedded
// responder, as a customer's would.
//
//	sbload -url http://127.0.0.1:8080 [-conversations 5000] [-duration 60s]
//	       [-interval 10s] [-ramp 500] [-settle 5s] [-json]
//	       [-target-p99 50ms] [-target-idle-kib 64]
//
// It stops by itself after the ramp, the settle time and the duration (and
// at most 5 s for the last replies and 10 s for closing). The report says
// which targets the run missed. The exit status is 1 when the run had
// errors, 2 when it could not run.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// options are the command line.
type options struct {
	url           string
	conversations int
	duration      time.Duration
	interval      time.Duration
	ramp          float64 // conversations opened per second
	settle        time.Duration
	json          bool
	targets       Targets
}

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return 2
	}
	if limit, err := raiseFileLimit(); err != nil {
		fmt.Fprintf(stderr, "sbload: open files: %v\n", err)
	} else if uint64(o.conversations)+64 > limit {
		fmt.Fprintf(stderr, "sbload: warning: %d conversations need more than the %d open files allowed\n", o.conversations, limit)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s, err := load(ctx, o, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "sbload: %v\n", err)
		return 2
	}
	if o.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(s) // stdout is where the report goes; nothing else to tell
	} else {
		s.WriteText(stdout)
	}
	if s.ErrorCount > 0 {
		return 1
	}
	return 0
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("sbload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	var targetP99 time.Duration
	fs.StringVar(&o.url, "url", "http://127.0.0.1:8080", "the gateway's HTTP address")
	fs.IntVar(&o.conversations, "conversations", 5000, "conversations to open and hold")
	fs.DurationVar(&o.duration, "duration", 60*time.Second, "how long the conversations send messages")
	fs.DurationVar(&o.interval, "interval", 10*time.Second, "mean time between one conversation's messages (jittered ±50%)")
	fs.Float64Var(&o.ramp, "ramp", 500, "conversations opened per second")
	fs.DurationVar(&o.settle, "settle", 5*time.Second, "how long the open streams stay idle before the memory reading")
	fs.BoolVar(&o.json, "json", false, "print the summary as JSON")
	fs.DurationVar(&targetP99, "target-p99", 50*time.Millisecond, "p99 round trip the run should stay under")
	fs.Float64Var(&o.targets.IdleKiB, "target-idle-kib", 64, "memory per idle conversation the gateway should stay under, KiB")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	o.targets.Conversations = o.conversations
	o.targets.P99Ms = ms(targetP99)
	u, err := url.Parse(o.url)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		err = fmt.Errorf("-url %q is not an address like http://127.0.0.1:8080", o.url)
	case o.conversations < 1 || o.duration <= 0 || o.interval <= 0 || o.ramp <= 0 || o.settle < 0:
		err = errors.New("-conversations, -duration, -interval and -ramp must be above 0")
	}
	if err != nil {
		fmt.Fprintf(stderr, "sbload: %v\n", err)
		fs.Usage()
		return o, err
	}
	o.url = strings.TrimRight(o.url, "/")
	return o, nil
}

// raiseFileLimit lifts the soft limit on open files to the hard one: each
// conversation holds a socket.
func raiseFileLimit() (uint64, error) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, err
	}
	l.Cur = l.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, err
	}
	return l.Cur, nil
}

func newClient(o options) *client {
	return &client{
		base:     o.url,
		ws:       "ws" + strings.TrimPrefix(o.url, "http"),
		interval: o.interval,
		tally:    newTally(),
		hc: &http.Client{Transport: &http.Transport{
			MaxIdleConnsPerHost: 256,
			IdleConnTimeout:     30 * time.Second,
			DisableCompression:  true,
		}},
	}
}

// cpuSeconds is the CPU time this process has used.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}
