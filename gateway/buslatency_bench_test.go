package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"switchboard/store"
	"switchboard/store/postgres/pgtest"
)

// The bus latency run: conversations held at once, agent replies a second
// across all of them, and for how long.
const (
	busConversations = 200
	busRate          = 500
	busDuration      = 10 * time.Second
	busAgentToken    = "bus-bench-agent-token-0123456789"
)

// BenchmarkBusLatencyAcrossInstances: two gateways in this process on one
// PostgreSQL schema, each with its own store pool and its own LISTEN
// connection, as two processes would have. 200 web conversations wait for
// an agent; the agent claims each on instance B, and each visitor's stream
// is open on instance A. Then the agent's replies are posted to B, 500 a
// second for 10 s, to the conversations in turn. The latency is from B's
// 202 reaching the agent's client to the message event arriving on the
// visitor's stream on A: B stores the reply and NOTIFYs, A's listener
// hears it, the visitor's stream reads the message by id and writes it
// (target: p99 under 50 ms). sent-* is from the request leaving instead;
// before-202 counts events that arrived before the 202 (taken as 0). The
// load, both gateways and PostgreSQL share the machine's cores. Run it
// with -benchtime 1x.
func BenchmarkBusLatencyAcrossInstances(b *testing.B) {
	r := newBusRig(b)
	var all []busSample
	for b.Loop() {
		all = append(all, r.fire(b, busRate, busDuration)...)
	}
	b.StopTimer()
	fromAccepted := make([]float64, 0, len(all))
	fromSent := make([]float64, 0, len(all))
	early := 0
	for _, s := range all {
		d := s.arrived.Sub(s.accepted)
		if d < 0 {
			early++
			d = 0
		}
		fromAccepted = append(fromAccepted, ms(d))
		fromSent = append(fromSent, ms(s.arrived.Sub(s.sent)))
	}
	b.ReportMetric(float64(len(all)), "replies")
	b.ReportMetric(float64(len(all))/(float64(b.Elapsed())/float64(time.Second)), "replies/s")
	b.ReportMetric(quantileMs(fromAccepted, 0.5), "p50_ms")
	b.ReportMetric(quantileMs(fromAccepted, 0.99), "p99_ms")
	b.ReportMetric(quantileMs(fromAccepted, 1), "max_ms")
	b.ReportMetric(quantileMs(fromSent, 0.5), "sent-p50-ms")
	b.ReportMetric(quantileMs(fromSent, 0.99), "sent-p99-ms")
	b.ReportMetric(float64(early), "before-202")
	r.reportWarnings(b)
}

// busRig is the two instances, the conversations and what arrived.
type busRig struct {
	a, b  *Gateway
	hc    *http.Client
	convs []busConv
	logs  *lockedBuffer

	mu      sync.Mutex
	arrived map[int64]time.Time // agent message id -> its event on the visitor's stream
}

type busConv struct {
	id    store.ConversationID
	token string
}

// busSample is one reply: when it was sent, accepted and seen by the visitor.
type busSample struct {
	sent, accepted, arrived time.Time
}

func newBusRig(b *testing.B) *busRig {
	b.Helper()
	dsn := pgtest.SchemaDSN(b)
	b.Setenv("SWITCHBOARD_DATABASE_URL", dsn)
	b.Setenv("SWITCHBOARD_SECRET", "bus-bench-secret-0123456789abcdef")
	b.Setenv("SWITCHBOARD_AGENT_TOKEN", busAgentToken)
	cfg := fixture(b)
	edit(b, cfg, "driver: sqlite", "driver: postgres")
	edit(b, cfg, "per_ip: {per_second: 5, burst: 40}", "per_ip: {per_second: 100000, burst: 100000}")
	edit(b, cfg, "max_per_client: 64", "max_per_client: 0") // one load generator is every visitor
	edit(b, cfg, "  voice:\n    enabled: true", "  voice:\n    enabled: false")
	r := &busRig{
		hc:      &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 128}, Timeout: 10 * time.Second},
		logs:    &lockedBuffer{},
		arrived: map[int64]time.Time{},
	}
	b.Cleanup(r.hc.CloseIdleConnections)
	log := slog.New(slog.NewTextHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	r.a = runGateway(b, cfg, log.With("instance", "a"))
	r.b = runGateway(b, cfg, log.With("instance", "b"))
	ctx, cancel := context.WithCancel(context.Background())
	var readers sync.WaitGroup
	b.Cleanup(func() { cancel(); readers.Wait() }) // before the gateways stop
	for range busConversations {
		c := r.waitingConversation(b)
		r.do(b, r.b, http.MethodPost, "/api/v1/agent/conversations/"+string(c.id)+"/claim", busAgentToken, nil, http.StatusOK)
		conn := r.openStream(b, ctx, c)
		readers.Go(func() { r.read(ctx, conn) })
		r.convs = append(r.convs, c)
	}
	return r
}

// runGateway starts a gateway on loopback until the benchmark ends.
func runGateway(tb testing.TB, cfg string, log *slog.Logger) *Gateway {
	tb.Helper()
	g, err := New(context.Background(), Options{ConfigPath: cfg, HTTPAddr: "127.0.0.1:0", DataDir: tb.TempDir()}, log)
	if err != nil {
		tb.Fatal(err)
	}
	if err := g.Listen(); err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			tb.Errorf("Run: %v", err)
		}
	})
	return g
}

// waitingConversation opens a web conversation on A as a visitor would
// and has it wait for an agent: the customer's request and the handoff are
// stored directly, so no policy decision stands between the set-up and
// the measurement.
func (r *busRig) waitingConversation(b *testing.B) busConv {
	b.Helper()
	var created struct{ ID, Token string }
	r.do(b, r.a, http.MethodPost, "/api/v1/conversations", "", map[string]string{"channel": "web"}, http.StatusCreated, &created)
	c := busConv{id: store.ConversationID(created.ID), token: created.Token}
	st := r.a.Store()
	if _, _, err := st.AppendMessage(b.Context(), store.Message{ConversationID: c.id, Role: store.RoleCustomer, Text: "a person, please"}); err != nil {
		b.Fatal(err)
	}
	if _, err := st.RequestHandoff(b.Context(), store.Handoff{ConversationID: c.id, Trigger: "explicit_request", Reason: "customer_request"}); err != nil {
		b.Fatal(err)
	}
	return c
}

// openStream opens the visitor's stream of c on A.
func (r *busRig) openStream(b *testing.B, ctx context.Context, c busConv) *websocket.Conn {
	b.Helper()
	u := "ws://" + r.a.HTTPAddr() + "/api/v1/conversations/" + url.PathEscape(string(c.id)) + "/stream?token=" + url.QueryEscape(c.token)
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(dctx, u, &websocket.DialOptions{HTTPClient: r.hc})
	if err != nil {
		b.Fatalf("stream of %s: %v", c.id, err)
	}
	b.Cleanup(func() { conn.Close(websocket.StatusNormalClosure, "") })
	return conn
}

// read records when each agent message arrives on a visitor's stream.
func (r *busRig) read(ctx context.Context, conn *websocket.Conn) {
	for {
		_, data, err := conn.Read(ctx)
		at := time.Now()
		if err != nil {
			return
		}
		var ev struct {
			Type    string `json:"type"`
			Message *struct {
				ID   int64  `json:"id"`
				Role string `json:"role"`
			} `json:"message"`
		}
		if json.Unmarshal(data, &ev) != nil || ev.Type != "message" || ev.Message == nil || ev.Message.Role != "agent" {
			continue
		}
		r.mu.Lock()
		if _, dup := r.arrived[ev.Message.ID]; !dup {
			r.arrived[ev.Message.ID] = at
		}
		r.mu.Unlock()
	}
}

// fire posts rate replies a second to B for d, to the conversations in
// turn, each on its own goroutine so that a slow answer does not hold the
// pace, then waits for each to arrive on A.
func (r *busRig) fire(b *testing.B, rate int, d time.Duration) []busSample {
	n := int(d.Seconds() * float64(rate))
	interval := time.Second / time.Duration(rate)
	type sent struct {
		id             int64
		sent, accepted time.Time
		err            error
	}
	out := make([]sent, n)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		time.Sleep(time.Until(start.Add(time.Duration(i) * interval))) // pacing the load, not waiting for an outcome
		c := r.convs[i%len(r.convs)]
		wg.Go(func() {
			s := &out[i]
			s.sent = time.Now()
			var resp struct{ Message struct{ ID int64 } }
			s.err = r.try(r.b, http.MethodPost, "/api/v1/agent/conversations/"+string(c.id)+"/messages", busAgentToken,
				map[string]string{"text": fmt.Sprintf("reply %d", i)}, http.StatusAccepted, &resp)
			s.accepted, s.id = time.Now(), resp.Message.ID
		})
	}
	wg.Wait()
	failed := 0
	for _, s := range out {
		if s.err != nil {
			if failed++; failed <= 3 {
				b.Errorf("reply: %v", s.err)
			}
		}
	}
	// Poll what arrived, with a deadline, for the last replies.
	var samples []busSample
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		samples = samples[:0]
		r.mu.Lock()
		for _, s := range out {
			if at, ok := r.arrived[s.id]; ok && s.err == nil {
				samples = append(samples, busSample{sent: s.sent, accepted: s.accepted, arrived: at})
			}
		}
		r.mu.Unlock()
		if len(samples) == n-failed || time.Now().After(deadline) {
			break
		}
	}
	if lost := n - failed - len(samples); lost > 0 || failed > 0 {
		b.Errorf("%d of %d replies failed, %d accepted never reached the visitor's stream", failed, n, lost)
	}
	return samples
}

// do is try that fails the benchmark on an error.
func (r *busRig) do(b *testing.B, g *Gateway, method, path, token string, body any, want int, out ...any) {
	b.Helper()
	if err := r.try(g, method, path, token, body, want, out...); err != nil {
		b.Fatal(err)
	}
}

// try sends one JSON request to g and decodes the answer into out.
func (r *busRig) try(g *Gateway, method, path, token string, body any, want int, out ...any) error {
	var rd io.Reader
	if body != nil {
		buf, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequest(method, "http://"+g.HTTPAddr()+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := r.hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %d %s, want %d", method, path, resp.StatusCode, bytes.TrimSpace(raw), want)
	}
	for _, o := range out {
		if err := json.Unmarshal(raw, o); err != nil {
			return fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	return nil
}

// reportWarnings shows the first warnings the gateways logged.
func (r *busRig) reportWarnings(b *testing.B) {
	lines := strings.Split(strings.TrimSpace(r.logs.String()), "\n")
	if lines[0] == "" {
		lines = nil
	}
	b.ReportMetric(float64(len(lines)), "warnings")
	for _, l := range lines[:min(len(lines), 3)] {
		b.Log(l)
	}
}

// lockedBuffer is a log destination several goroutines write to.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// quantileMs is the q-quantile of xs (nearest rank); 0 for none.
func quantileMs(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return math.Round(s[max(i, 0)]*100) / 100
}
