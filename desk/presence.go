package desk

import (
	"context"
	"log/slog"
	"sort"
	"sync"
	"time"

	"switchboard/events"
)

// Presence timings: each instance says every heartbeat which of its agents
// are online; an agent not heard of for expiry is offline (an instance
// that died says nothing more).
const (
	heartbeat = 10 * time.Second
	expiry    = 3 * heartbeat
)

// Presence knows which agents are online on any instance: an agent is
// online while they have a console stream open (Slack later).
type Presence struct {
	bus      events.Bus
	instance string
	now      func() time.Time
	log      *slog.Logger

	mu    sync.Mutex
	local map[string]int                  // agent -> open streams on this instance
	seen  map[string]map[string]time.Time // agent -> instance -> last heard online
}

// NewPresence tracks presence over bus; Run must be running for other
// instances' agents to be seen.
func NewPresence(bus events.Bus, instance string, now func() time.Time, log *slog.Logger) *Presence {
	return &Presence{bus: bus, instance: instance, now: now, log: log,
		local: map[string]int{}, seen: map[string]map[string]time.Time{}}
}

// Connect marks agent online until the returned function is called.
func (p *Presence) Connect(ctx context.Context, agent string) (disconnect func()) {
	p.mu.Lock()
	p.local[agent]++
	first := p.local[agent] == 1
	p.markLocked(agent, p.instance, true)
	p.mu.Unlock()
	if first {
		p.publish(ctx, agent, true)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			p.mu.Lock()
			p.local[agent]--
			last := p.local[agent] == 0
			if last {
				delete(p.local, agent)
				p.markLocked(agent, p.instance, false)
			}
			p.mu.Unlock()
			if last {
				p.publish(context.WithoutCancel(ctx), agent, false)
			}
		})
	}
}

func (p *Presence) publish(ctx context.Context, agent string, online bool) {
	if err := p.bus.Publish(ctx, events.Event{Kind: events.Presence, Agent: agent, Online: online}); err != nil {
		p.log.Warn("presence not published", "agent", agent, "error", err)
	}
}

func (p *Presence) markLocked(agent, instance string, online bool) {
	if !online {
		if m := p.seen[agent]; m != nil {
			delete(m, instance)
			if len(m) == 0 {
				delete(p.seen, agent)
			}
		}
		return
	}
	if p.seen[agent] == nil {
		p.seen[agent] = map[string]time.Time{}
	}
	p.seen[agent][instance] = p.now()
}

// Online lists the agents online on any instance, sorted.
func (p *Presence) Online() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	var out []string
	for agent, m := range p.seen {
		for inst, at := range m {
			if inst == p.instance && p.local[agent] > 0 || now.Sub(at) < expiry {
				out = append(out, agent)
				break
			}
		}
	}
	sort.Strings(out)
	return out
}

// AnyOnline says whether any agent is online.
func (p *Presence) AnyOnline() bool { return len(p.Online()) > 0 }

// Run hears other instances' presence and says this one's every
// heartbeat, until ctx ends.
func (p *Presence) Run(ctx context.Context) {
	sub := p.bus.Subscribe(events.Filter{Kinds: []events.Kind{events.Presence}})
	defer sub.Close()
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-sub.Done():
			return
		case <-sub.Lagged():
			// Missed some: the next heartbeats of every instance say it again.
		case e := <-sub.C():
			if e.Instance != p.instance {
				p.mu.Lock()
				p.markLocked(e.Agent, e.Instance, e.Online)
				p.mu.Unlock()
			}
		case <-tick.C:
			p.mu.Lock()
			agents := make([]string, 0, len(p.local))
			for a := range p.local {
				agents = append(agents, a)
			}
			p.mu.Unlock()
			for _, a := range agents {
				p.publish(ctx, a, true)
			}
		}
	}
}
