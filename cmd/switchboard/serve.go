package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/term"

	"switchboard/config"
	"switchboard/gateway"
)

func serve(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var opts gateway.Options
	fs.StringVar(&opts.ConfigPath, "config", defaultConfig, "config file")
	fs.StringVar(&opts.HTTPAddr, "http", "", "HTTP listen address (overrides listen.http)")
	fs.StringVar(&opts.SIPAddr, "sip", "", "SIP listen address (overrides listen.sip)")
	fs.StringVar(&opts.DataDir, "data", "", "data directory (overrides data_dir)")
	debug := fs.String("debug", "", "serve the Go runtime's profiles (/debug/pprof/) on this loopback address; off when empty")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	cfg, err := config.Load(opts.ConfigPath)
	if err != nil {
		return fmt.Errorf("switchboard will not start on an invalid config:\n%w", err)
	}
	log := newLogger(cfg.Log, stderr)

	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	go func() {
		// The first signal starts the drain; from then on the signals'
		// default applies, so a second one stops the process at once.
		<-ctx.Done()
		stop()
	}()
	g, err := gateway.New(ctx, opts, log)
	if err != nil {
		return err
	}
	if *debug != "" {
		if _, err := startDebug(ctx, *debug, log); err != nil {
			return err
		}
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				_ = g.Reload() // Reload logs and counts its own outcome
			}
		}
	}()
	return g.Run(ctx)
}

// newLogger logs text to a terminal and JSON otherwise (to a collector).
func newLogger(c config.Log, w io.Writer) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.Level)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	asText := c.Format == "text"
	if c.Format == "auto" {
		f, ok := w.(*os.File)
		asText = ok && term.IsTerminal(int(f.Fd()))
	}
	if asText {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}
