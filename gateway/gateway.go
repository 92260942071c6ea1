// Package gateway builds Switchboard from its config and runs it: the
// store, the handoff policy, the responder and the HTTP server; it reloads
// the config on request and drains on shutdown. Nothing imports it but the
// command.
package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"switchboard/channels/voice"
	"switchboard/channels/webchat"
	"switchboard/channels/webhook"
	"switchboard/config"
	"switchboard/delivery"
	"switchboard/desk"
	"switchboard/dialog"
	"switchboard/events"
	"switchboard/handoff"
	"switchboard/sip"
	"switchboard/store"
)

// Options are what the command line can set over the config file.
type Options struct {
	ConfigPath string
	HTTPAddr   string // overrides listen.http when set
	SIPAddr    string // overrides listen.sip when set
	DataDir    string // overrides data_dir when set; relative to the working directory
}

// Gateway is one running Switchboard.
type Gateway struct {
	opts    Options
	log     *slog.Logger
	reg     *prometheus.Registry
	metrics *metrics
	store   store.Store
	turns   *dialog.Conductor
	web     *webchat.Server
	desk    *desk.Desk
	bus     events.Bus
	// instance names this process on the bus.
	instance string
	agents   *desk.Agents
	presence *desk.Presence
	outbox   *delivery.Worker
	voice    *voice.Channel
	sip      *sip.Server // nil when the voice channel is off
	now      func() time.Time
	started  time.Time

	// live is everything a reload swaps at once, so a request never sees the
	// new policy with the old config.
	live atomic.Pointer[runtime]
	// draining is set once Run is stopping: /readyz says so.
	draining atomic.Bool

	httpLn net.Listener
	http   *http.Server
	// agentTokenFile is where the agent token was generated, "" when it
	// comes from the environment or the config.
	agentTokenFile string
}

// runtime is the part of the gateway built from one version of the config.
type runtime struct {
	cfg       *config.Config
	policy    *handoff.Policy
	masker    *handoff.Masker
	responder dialog.Responder
	company   string
	// webhookSecret signs the handoff webhook's posts; nil: unsigned.
	webhookSecret []byte
}

// New loads the config, opens the store and builds the policy and responder.
// It refuses to start on an invalid config.
func New(ctx context.Context, opts Options, log *slog.Logger) (*Gateway, error) {
	cfg, err := loadConfig(opts)
	if err != nil {
		return nil, err
	}
	warnConfig(log, cfg)
	rt, err := build(cfg, log)
	if err != nil {
		return nil, err
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	g := &Gateway{opts: opts, log: log, reg: reg, metrics: newMetrics(reg), store: st, now: time.Now, instance: newInstanceName(),
		started: time.Now()}
	g.live.Store(rt)
	if err := g.wire(ctx, cfg); err != nil {
		g.closeAll()
		return nil, err
	}
	return g, nil
}

// wire builds what runs on the store: the bus, the conductor, the desk and
// the channels.
func (g *Gateway) wire(ctx context.Context, cfg *config.Config) error {
	var err error
	if g.bus, err = openBus(ctx, cfg, g.instance, g); err != nil {
		return err
	}
	g.turns = dialog.NewConductor(g.store, g.dialogLive, dialog.NewMetrics(g.reg), g.now, g.log, dialog.WithBus(g.bus),
		dialog.WithHandoffHook(g.enqueueHandoff))
	g.outbox = delivery.New(g.store, g.bus, cfg.Delivery, g.reg, g.log.With("component", "delivery"), g.now)
	// Registered with the webhook off too: a reload may turn it on, and
	// items queued before one turned it off are given up, not left waiting.
	g.outbox.Register(webhook.Kind, webhook.New(webhook.Options{Target: g.webhookTarget, Instance: g.instance}))
	if g.desk, err = g.newDesk(cfg); err != nil {
		return err
	}
	if cfg.Channels.Web.Enabled {
		if g.web, err = g.newWebChat(cfg); err != nil {
			return err
		}
	}
	if cfg.Channels.Voice.Enabled {
		if err := g.newVoice(ctx, cfg); err != nil {
			return err
		}
	}
	return nil
}

// closeAll releases the bus and the store.
func (g *Gateway) closeAll() error {
	var err error
	if g.bus != nil {
		err = g.bus.Close()
	}
	return errors.Join(err, g.store.Close())
}

// loadConfig reads the file and applies the command line over it.
func loadConfig(opts Options) (*config.Config, error) {
	cfg, err := config.Load(opts.ConfigPath)
	if err != nil {
		return nil, err
	}
	if opts.HTTPAddr != "" {
		cfg.Listen.HTTP = opts.HTTPAddr
	}
	if opts.SIPAddr != "" {
		cfg.Listen.SIP = opts.SIPAddr
	}
	// data_dir is relative to the file's folder, like every path in it; a
	// --data given on the command line is relative to the working directory,
	// like any command-line path.
	if opts.DataDir != "" {
		cfg.DataDir = opts.DataDir
	} else {
		cfg.DataDir = cfg.ResolvePath(cfg.DataDir)
	}
	return cfg, nil
}

// build makes the reloadable parts from cfg.
func build(cfg *config.Config, log *slog.Logger) (*runtime, error) {
	policy, err := handoff.New(cfg.Handoff)
	if err != nil {
		return nil, fmt.Errorf("handoff policy: %w", err)
	}
	masker, err := handoff.NewMasker(cfg.Handoff.PII)
	if err != nil {
		return nil, fmt.Errorf("handoff pii: %w", err)
	}
	secret, err := webhookSecret(cfg.Handoff.Webhook)
	if err != nil {
		return nil, err
	}
	kb, err := dialog.LoadKnowledge(cfg.ResolvePath(cfg.Responder.Embedded.Knowledge))
	if err != nil {
		return nil, fmt.Errorf("responder: %w", err)
	}
	var responder dialog.Responder = dialog.NewEmbedded(kb, dialog.EmbeddedOptions{})
	if cfg.Responder.Kind == "openai" {
		// The embedded responder stays as the fallback: a provider outage
		// never leaves a customer without a reply.
		ai, err := dialog.NewOpenAI(cfg.Responder.OpenAI, dialog.OpenAIInputs{
			Knowledge: kb, Handoff: cfg.Handoff, Fallback: responder, Log: log.With("responder", "openai")})
		if err != nil {
			return nil, fmt.Errorf("responder: %w", err)
		}
		responder = ai
	}
	return &runtime{cfg: cfg, policy: policy, masker: masker, responder: responder, company: kb.Company,
		webhookSecret: secret}, nil
}

func (g *Gateway) dialogLive() dialog.Live {
	rt := g.live.Load()
	return dialog.Live{Policy: rt.policy, Responder: rt.responder, Handoff: rt.cfg.Handoff, Masker: rt.masker,
		AgentsOnline: g.agentsOnline}
}

// Conductor is the turn-taking core the channel adapters hand messages to.
func (g *Gateway) Conductor() *dialog.Conductor { return g.turns }

// Store is the conversation store.
func (g *Gateway) Store() store.Store { return g.store }

// Config returns the config in force.
func (g *Gateway) Config() *config.Config { return g.live.Load().cfg }

// Reload loads the config file again. A valid new config swaps in at once;
// an invalid one is rejected with its errors and the old one stays. Changes
// to listen addresses, data dir and store need a restart, and say so.
func (g *Gateway) Reload() error {
	cfg, err := loadConfig(g.opts)
	if err == nil {
		warnConfig(g.log, cfg)
		var rt *runtime
		if rt, err = build(cfg, g.log); err == nil {
			err = g.reloadTrunks(cfg)
		}
		if err == nil {
			old := g.live.Swap(rt)
			g.metrics.reloads.WithLabelValues("ok").Inc()
			g.warnRestartNeeded(old.cfg, cfg)
			g.log.Info("config reloaded", "file", cfg.File, "handoff_level", cfg.Handoff.Level)
			return nil
		}
	}
	g.metrics.reloads.WithLabelValues("error").Inc()
	g.log.Error("config reload rejected; keeping the previous config", "file", g.opts.ConfigPath, "error", err)
	return err
}

// warnConfig logs what the file still says the old way (a key that has
// moved), at start and on every reload until the file is changed.
func warnConfig(log *slog.Logger, cfg *config.Config) {
	for _, w := range cfg.Warnings {
		log.Warn("config warning", "file", w.File, "line", w.Line, "key", w.Key, "warning", w.Msg)
	}
}

func (g *Gateway) warnRestartNeeded(old, cfg *config.Config) {
	if old.Listen != cfg.Listen || old.DataDir != cfg.DataDir || old.Store != cfg.Store {
		g.log.Warn("listen addresses, data_dir and store take effect only after a restart")
	}
	if keys := restartKeys(old, cfg); len(keys) > 0 {
		g.log.Warn("these changes take effect only after a restart", "keys", keys)
	}
}

// Listen binds the HTTP and SIP addresses, so that callers (and tests
// asking for port 0) know the addresses before Run.
func (g *Gateway) Listen() error {
	ln, err := net.Listen("tcp", g.Config().Listen.HTTP)
	if err != nil {
		return fmt.Errorf("listen http: %w", err)
	}
	if g.sip != nil {
		if err := g.sip.Listen(context.Background()); err != nil {
			ln.Close()
			return fmt.Errorf("listen sip: %w", err)
		}
	}
	g.httpLn = ln
	g.http = newHTTPServer(g.routes())
	return nil
}

// HTTPAddr is the bound HTTP address after Listen.
func (g *Gateway) HTTPAddr() string { return g.httpLn.Addr().String() }

// SIPAddr is the bound SIP address of network ("udp", "tcp", "tls") after
// Listen; "" when that listener or the voice channel is off.
func (g *Gateway) SIPAddr(network string) string {
	if g.sip == nil {
		return ""
	}
	return g.sip.Addr(network)
}

// Run serves until ctx ends, then drains: /readyz says so, new calls are
// refused while those under way go on (up to channels.voice.drain_timeout),
// then it stops taking requests, lets those under way finish (up to 10 s),
// hangs up what calls are left and closes the store.
func (g *Gateway) Run(ctx context.Context) error {
	if g.httpLn == nil {
		if err := g.Listen(); err != nil {
			return err
		}
	}
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	if err := g.watchConfig(watchCtx); err != nil {
		g.log.Warn("config changes will need SIGHUP", "error", err)
	}
	bgCtx, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBackground()
	backgroundDone := g.runBackground(bgCtx)
	errc := make(chan error, 2)
	go func() { errc <- g.http.Serve(g.httpLn) }()
	sipCtx, stopSIP := context.WithCancel(context.WithoutCancel(ctx))
	defer stopSIP()
	sipDone := make(chan struct{})
	if g.sip != nil {
		go func() {
			defer close(sipDone)
			if err := g.sip.Serve(sipCtx); err != nil {
				errc <- err
			}
		}()
	} else {
		close(sipDone)
	}
	g.log.Info("switchboard started", "instance", g.instance, "http", g.HTTPAddr(), "sip", g.SIPAddr("udp"),
		"store", g.Config().Store.Driver, "handoff_level", g.Config().Handoff.Level)
	g.log.Info(g.whereToLook())
	var runErr error
	select {
	case <-ctx.Done():
		g.drainCalls()
	case runErr = <-errc:
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := g.http.Shutdown(shutdownCtx); err != nil {
		runErr = errors.Join(runErr, fmt.Errorf("http shutdown: %w", err))
	}
	// Calls under way are hung up: a process that is stopping cannot keep
	// their media going.
	stopSIP()
	<-sipDone
	stopBackground()
	<-backgroundDone
	if err := g.closeAll(); err != nil {
		runErr = errors.Join(runErr, fmt.Errorf("close: %w", err))
	}
	if errors.Is(runErr, http.ErrServerClosed) {
		runErr = nil
	}
	g.log.Info("switchboard stopped")
	return runErr
}

// drainCalls refuses new calls and waits for those under way to end, up to
// the drain timeout; the web endpoints keep serving meanwhile, /readyz
// answering "draining" so that a load balancer sends new visitors elsewhere.
func (g *Gateway) drainCalls() {
	g.draining.Store(true)
	if g.sip == nil {
		return
	}
	done := g.sip.Drain()
	n := g.sip.ActiveCalls()
	if n == 0 {
		return
	}
	timeout := g.Config().Channels.Voice.DrainTimeout
	g.log.Info("draining: new calls are refused; waiting for the calls under way", "calls", n, "drain_timeout", timeout)
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-done:
		g.log.Info("drained: every call has ended")
	case <-t.C:
		g.log.Warn("drain timeout: hanging up the calls still under way", "calls", g.sip.ActiveCalls())
	}
}
