package gateway

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"switchboard/store"
)

// chromium finds the browser, or skips (fails under SWITCHBOARD_NO_SKIP,
// which CI sets).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("SWITCHBOARD_NO_SKIP") != "" {
		t.Fatal("no Chromium on this machine (Debian package chromium); CI must not skip this test")
	}
	t.Skip("no Chromium on this machine; install the Debian package chromium")
	return ""
}

// person starts a headless Chromium of its own (its own profile and
// storage: a second person is a second browser), with flags that keep it
// off the network, and returns its context.
func person(t *testing.T, exe string) context.Context {
	t.Helper()
	// Not t.TempDir: Chromium's helper processes may still be writing to
	// the profile for a moment after the browser exits.
	profile, err := os.MkdirTemp("", "switchboard-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { removeEventually(profile) })
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("no-first-run", true), chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(profile), chromedp.WindowSize(1280, 860))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(cancel)
	// A guard against a hang, not a speed check: with the phone tests'
	// recognisers and sipp running beside it on two cores, one run took
	// over 90 s.
	ctx, cancelT := context.WithTimeout(ctx, 240*time.Second)
	t.Cleanup(cancelT)
	if err := chromedp.Run(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// removeEventually removes dir, retrying while a process lets go of it.
func removeEventually(dir string) {
	for range 50 {
		if os.RemoveAll(dir) == nil {
			return
		}
		time.Sleep(100 * time.Millisecond) // cleanup of another process's files; nothing to wait on
	}
}

// shot saves a screenshot where a person can look at it, and logs the path.
func shot(t *testing.T, ctx context.Context, name string) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		var png []byte
		if err := chromedp.FullScreenshot(&png, 100).Do(ctx); err != nil {
			return err
		}
		dir := os.Getenv("SWITCHBOARD_SCREENSHOTS")
		if dir == "" {
			dir = filepath.Join(os.TempDir(), "switchboard-screenshots")
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		p := filepath.Join(dir, name+".png")
		if err := os.WriteFile(p, png, 0o644); err != nil {
			return err
		}
		t.Logf("screenshot: %s", p)
		return nil
	})
}

// waitText polls until the element's text contains want.
func waitText(sel, want string) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		for {
			var got string
			if err := chromedp.Run(ctx, chromedp.Text(sel, &got, chromedp.ByQuery)); err == nil && strings.Contains(got, want) {
				return nil
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("%s never showed %q: %w", sel, want, ctx.Err())
			case <-time.After(100 * time.Millisecond):
			}
		}
	})
}

func TestBrowserVisitorToAgentHandoff(t *testing.T) {
	exe := chromium(t)
	cfg := fixture(t)
	t.Setenv("SWITCHBOARD_AGENT_TOKEN", "browser-test-agent-token")
	g, stop := start(t, cfg)
	defer stop()
	base := "http://" + g.HTTPAddr()
	visitor, agent := person(t, exe), person(t, exe)

	msgs := "#sb-messages"
	// The visitor asks the AI a question from the knowledge base.
	err := chromedp.Run(visitor,
		chromedp.Navigate(base+"/"),
		chromedp.Click("#sb-launcher", chromedp.ByQuery),
		chromedp.WaitVisible("#sb-input", chromedp.ByQuery),
		chromedp.SendKeys("#sb-input", "How long do I have to return an item?", chromedp.ByQuery),
		chromedp.Click("#sb-send", chromedp.ByQuery),
		waitText(msgs+` .sb-msg[data-role="ai"]`, "30 days"),
		// Then asks for a person: the page's own handoff listener shows its banner.
		chromedp.SendKeys("#sb-input", "I'd like to talk to a real person", chromedp.ByQuery),
		chromedp.Click("#sb-send", chromedp.ByQuery),
		// Nobody has the console open yet: the customer is told so.
		waitText("#demo-handoff-banner", "passed your conversation to our team"),
		shot(t, visitor, "1-visitor-handoff"),
		// The page's contact form sends details for the human.
		chromedp.SendKeys(`#demo-contact-form [name="name"]`, "Ada Lovelace", chromedp.ByQuery),
		chromedp.SendKeys(`#demo-contact-form [name="email"]`, "ada@example.com", chromedp.ByQuery),
		chromedp.SendKeys(`#demo-contact-form [name="order_number"]`, "PP-5512", chromedp.ByQuery),
		chromedp.Click(`#demo-contact-form button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible("#demo-contact-done", chromedp.ByQuery),
	)
	if err != nil {
		t.Fatalf("visitor: %v", err)
	}

	// The agent sees it in the console with its summary, claims and replies.
	err = chromedp.Run(agent,
		chromedp.Navigate(base+"/agent"),
		chromedp.WaitVisible("#agent-token", chromedp.ByQuery),
		chromedp.SendKeys("#agent-token", "browser-test-agent-token", chromedp.ByQuery),
		chromedp.Click("#agent-login", chromedp.ByQuery),
		chromedp.WaitVisible("#queue .queue-item", chromedp.ByQuery),
		chromedp.Click("#queue .queue-item", chromedp.ByQuery),
		waitText("#packet-summary", "real person"),
		waitText("#packet", "Ada Lovelace"),
		chromedp.Click("#claim", chromedp.ByQuery),
		chromedp.WaitEnabled("#reply", chromedp.ByQuery),
		chromedp.SendKeys("#reply", "Hi, I'm Sam from Parcel & Pine. I can help with your return.", chromedp.ByQuery),
		chromedp.WaitEnabled("#reply-send", chromedp.ByQuery),
		chromedp.Click("#reply-send", chromedp.ByQuery),
		waitText("#transcript", "Sam from Parcel & Pine"),
		shot(t, agent, "2-agent-console"),
	)
	if err != nil {
		t.Fatalf("agent: %v", err)
	}

	// The visitor sees the reply in the same thread; the AI says nothing more;
	// a reload shows the whole history.
	var aiBefore, aiAfter int
	err = chromedp.Run(visitor,
		waitText(msgs+` .sb-msg[data-role="agent"]`, "Sam from Parcel & Pine"),
		chromedp.Evaluate(`document.querySelectorAll('#sb-messages .sb-msg[data-role="ai"]').length`, &aiBefore),
		chromedp.SendKeys("#sb-input", "Thanks! It's order 5512.", chromedp.ByQuery),
		chromedp.Click("#sb-send", chromedp.ByQuery),
		waitText(msgs, "order 5512"),
		chromedp.Reload(),
		chromedp.Click("#sb-launcher", chromedp.ByQuery),
		waitText(msgs, "How long do I have to return an item?"),
		waitText(msgs, "Sam from Parcel & Pine"),
		waitText(msgs, "order 5512"),
		chromedp.Evaluate(`document.querySelectorAll('#sb-messages .sb-msg[data-role="ai"]').length`, &aiAfter),
		shot(t, visitor, "3-visitor-after-reload"),
	)
	if err != nil {
		t.Fatalf("visitor after the handoff: %v", err)
	}
	// The admin's views: insights and the settings in force.
	err = chromedp.Run(agent,
		chromedp.Click("#tab-insights", chromedp.ByQuery),
		chromedp.WaitVisible(`#insights-trigger .bar[data-key="explicit_request"]`, chromedp.ByQuery),
		shot(t, agent, "4-insights"),
		chromedp.Navigate(base+"/settings"),
		waitText("#settings-topics", "billing_disputes"),
		shot(t, agent, "5-settings"),
	)
	if err != nil {
		t.Fatalf("insights and settings: %v", err)
	}
	if aiAfter != aiBefore {
		t.Errorf("the AI spoke after the handoff: %d AI messages before, %d after", aiBefore, aiAfter)
	}
	msgsStored, err := g.Store().ListConversations(context.Background(), storeFilterAll())
	if err != nil || len(msgsStored) != 1 {
		t.Errorf("want one conversation, got %d (%v)", len(msgsStored), err)
	}
}

func storeFilterAll() store.ListFilter { return store.ListFilter{} }
