package main

import (
	"errors"
	"fmt"
	"io"

	"switchboard/config"
)

// errInvalid reports that a check found problems it has already printed.
var errInvalid = errors.New("invalid config")

func checkConfig(args []string, stdout, stderr io.Writer) error {
	if len(args) != 1 {
		fmt.Fprintln(stderr, "usage: switchboard check-config FILE")
		return errUsage
	}
	cfg, err := config.Load(args[0])
	var errs config.Errors
	switch {
	case errors.As(err, &errs):
		for _, e := range errs {
			fmt.Fprintln(stderr, e)
		}
		return fmt.Errorf("%s: %d error(s): %w", args[0], len(errs), errInvalid)
	case err != nil:
		return err
	}
	for _, w := range cfg.Warnings {
		fmt.Fprintln(stderr, "warning:", w)
	}
	fmt.Fprintf(stdout, "%s: ok (level %s, %d restricted topics, store %s)\n",
		cfg.File, cfg.Handoff.Level, len(cfg.Handoff.RestrictedTopics), cfg.Store.Driver)
	warnSecrets(cfg, stderr)
	return nil
}

// warnSecrets says which secrets the file names that this environment does
// not give: the file is fine, but serve will not start here without them.
// It is not an error, as the check may run where the secrets are not.
func warnSecrets(cfg *config.Config, stderr io.Writer) {
	if !cfg.Channels.Voice.Enabled {
		return
	}
	if _, err := cfg.OutboundPassword(); err != nil {
		fmt.Fprintf(stderr, "%s: warning: %v; serve needs it to start\n", cfg.File, err)
	}
}
