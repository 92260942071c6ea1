package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"switchboard/config"
	"switchboard/handoff"
)

// maxSimulateLine bounds one conversation on stdin.
const maxSimulateLine = 1 << 20

type simConversation struct {
	ID       string            `json:"id"`
	Channel  string            `json:"channel"`
	Messages []handoff.Message `json:"messages"`
}

type simResult struct {
	ID string `json:"id"`
	handoff.Decision
	Error string `json:"error,omitempty"`
}

func simulate(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("handoff simulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", defaultConfig, "config file")
	level := fs.String("level", "", "handoff level to simulate: "+strings.Join(config.Levels, ", ")+" (default: the config's)")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return err
	}
	if *level != "" {
		if !slices.Contains(config.Levels, *level) && *level != "advanced" {
			fmt.Fprintf(stderr, "--level %q is not one of %s\n", *level, strings.Join(config.Levels, ", "))
			return errUsage
		}
		cfg.Handoff.Level = *level
		cfg.Handoff.Channels = nil // simulate the level asked for, on every channel
	}
	policy, err := handoff.New(cfg.Handoff)
	if err != nil {
		return err
	}
	return simulateLines(policy, stdin, stdout)
}

// simulateLines answers each input line with one output line; a bad line
// gets an error result and the rest still run, so one typo does not hide the
// other answers. It returns an error if any line was bad.
func simulateLines(p *handoff.Policy, stdin io.Reader, stdout io.Writer) error {
	sc := bufio.NewScanner(stdin)
	sc.Buffer(make([]byte, 0, 64*1024), maxSimulateLine)
	enc := json.NewEncoder(stdout)
	bad, line := 0, 0
	for sc.Scan() {
		line++
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var c simConversation
		res := simResult{}
		if err := decodeStrict(sc.Bytes(), &c); err != nil {
			res.ID, res.Error, res.Trigger = c.ID, fmt.Sprintf("line %d: %v", line, err), handoff.TriggerNone
			bad++
		} else {
			res.ID, res.Decision = c.ID, p.Replay(c.Channel, c.Messages, time.Time{})
		}
		if err := enc.Encode(res); err != nil {
			return fmt.Errorf("simulate: %w", err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("simulate: line %d: %w", line+1, err)
	}
	if bad > 0 {
		return fmt.Errorf("simulate: %d bad line(s)", bad)
	}
	return nil
}

func decodeStrict(b []byte, c *simConversation) error {
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(c); err != nil {
		return err
	}
	if c.ID == "" {
		return errors.New(`"id" is required`)
	}
	for i, m := range c.Messages {
		switch m.Role {
		case handoff.RoleCustomer, handoff.RoleAI, handoff.RoleAgent:
		default:
			return fmt.Errorf("messages[%d]: role %q is not customer, ai or agent", i, m.Role)
		}
	}
	return nil
}
