// Command switchboard runs the Switchboard gateway and its admin tools:
//
//	switchboard [serve] [--config FILE] [--http ADDR] [--sip ADDR] [--data DIR] [--debug ADDR]
//	switchboard check-config FILE
//	switchboard handoff simulate --config FILE --level LEVEL < conversations.jsonl
//
// It parses flags, handles signals and exit codes; the work is done by the
// gateway, config and handoff packages.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
)

// defaultConfig is used when --config is not given.
const defaultConfig = "configs/switchboard.yaml"

// errUsage marks a command line that could not be understood; its message
// has already been printed.
var errUsage = errors.New("usage")

func main() {
	err := run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	switch {
	case err == nil:
	case errors.Is(err, errUsage):
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, stderr)
	case "check-config":
		return checkConfig(args, stdout, stderr)
	case "handoff":
		if len(args) == 0 || args[0] != "simulate" {
			fmt.Fprintln(stderr, "usage: switchboard handoff simulate --config FILE --level LEVEL < conversations.jsonl")
			return errUsage
		}
		return simulate(args[1:], stdin, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprintf(stderr, "switchboard: unknown command %q\n\n%s", cmd, usage)
		return errUsage
	}
}

const usage = `usage:
  switchboard [serve] [--config FILE] [--http ADDR] [--sip ADDR] [--data DIR] [--debug ADDR]
      run the gateway (default config: configs/switchboard.yaml); --debug serves
      the Go runtime's profiles (/debug/pprof/) on a loopback address
  switchboard check-config FILE
      report every error in a config file with file:line:key; exit 1 on any
  switchboard handoff simulate --config FILE [--level LEVEL] < conversations.jsonl
      replay conversations (JSON lines) through the handoff policy
`
