package gateway

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

const samToken = "browser-test-sam-token-0123"

// threadJS lists the visitor's thread as a person reads it: who (when
// shown) and what, one line per bubble or notice.
const threadJS = `Array.from(document.querySelectorAll('#sb-messages > *')).map((n) => {
  const who = n.querySelector('.sb-who:not(.sb-visually-hidden)');
  const text = n.querySelector('.sb-text') || n;
  return (n.getAttribute('data-role') || 'notice') + ' ' + (who ? who.textContent + ': ' : '') + text.textContent;
})`

// countJS counts the bubbles and notices of the thread that hold text.
func countJS(text string) string {
	return `Array.from(document.querySelectorAll('#sb-messages > *')).filter((n) => n.textContent.includes(` +
		quoteJS(text) + `)).length`
}

func quoteJS(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`).Replace(s) + "'"
}

// steps runs actions with a deadline of their own, so that a page that
// never shows what a step waits for fails the step, not the whole run.
func steps(ctx context.Context, actions ...chromedp.Action) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return chromedp.Run(ctx, actions...)
}

// The visitor's thread tells each change once, with the agent's name; the
// page's banner follows the conversation's state; a reload shows the same
// thread the visitor saw.
func TestBrowserWidgetThreadFollowsTheConversation(t *testing.T) {
	exe := chromium(t)
	cfg := fixture(t)
	t.Setenv("SWITCHBOARD_AGENT_TOKENS", "sam:"+samToken)
	g, stop := start(t, cfg)
	defer stop()
	base := "http://" + g.HTTPAddr()
	visitor := person(t, exe)
	msgs := "#sb-messages"
	banner := visible("#demo-handoff-banner")

	// The handoff: the AI's message is the one announcement in the thread;
	// the page shows its banner with the same words.
	var told string
	err := steps(visitor,
		chromedp.Navigate(base+"/"),
		chromedp.Click("#sb-launcher", chromedp.ByQuery),
		chromedp.WaitVisible("#sb-input", chromedp.ByQuery),
		chromedp.SendKeys("#sb-input", "How long do I have to return an item?", chromedp.ByQuery),
		chromedp.Click("#sb-send", chromedp.ByQuery),
		waitText(msgs+` .sb-msg[data-role="ai"]`, "30 days"),
		chromedp.SendKeys("#sb-input", "I'd like to talk to a real person", chromedp.ByQuery),
		chromedp.Click("#sb-send", chromedp.ByQuery),
		waitJS(banner),
		waitText("#demo-handoff-text", "our team"),
		chromedp.Text("#demo-handoff-text", &told, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatalf("handoff: %v", err)
	}
	var times int
	if err := chromedp.Run(visitor, chromedp.Evaluate(countJS(told), &times)); err != nil || times != 1 {
		t.Errorf("the thread says %q %d times (%v), want once", told, times, err)
	}

	// Details from the page's form are the team's business, not a line of
	// raw fields in the visitor's thread.
	var thread []string
	err = steps(visitor,
		chromedp.SendKeys(`#demo-contact-form [name="name"]`, "Ada Lovelace", chromedp.ByQuery),
		chromedp.SendKeys(`#demo-contact-form [name="email"]`, "ada@example.com", chromedp.ByQuery),
		chromedp.Click(`#demo-contact-form button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible("#demo-contact-done", chromedp.ByQuery),
		waitJS(`document.querySelectorAll('#sb-messages [data-role="system"]').length > 0`),
		chromedp.Evaluate(threadJS, &thread),
	)
	if err != nil {
		t.Fatalf("details: %v", err)
	}
	if all := strings.Join(thread, "\n"); strings.Contains(all, "Customer details") || !strings.Contains(all, "details") {
		t.Errorf("the details show in the thread as:\n%s", all)
	}

	// Sam joins: the banner goes, the widget says who is there, once.
	id, err := visitorConversation(visitor)
	if err != nil {
		t.Fatal(err)
	}
	path := "/api/v1/agent/conversations/" + id
	agentCall(t, base, samToken, "POST", path+"/claim", nil)
	err = steps(visitor,
		waitText(msgs, "Sam joined the conversation."),
		waitJS("!"+banner),
		waitText(".sb-status", "talking with Sam"),
	)
	if err != nil {
		t.Fatalf("agent joined: %v", err)
	}
	agentCall(t, base, samToken, "POST", path+"/messages", map[string]string{"text": "Hi, I'm Sam. Let me look at your order."})
	if err := steps(visitor, waitText(msgs+` .sb-msg[data-role="agent"] .sb-who`, "Sam")); err != nil {
		t.Fatalf("agent's reply: %v", err)
	}

	// Back to the AI, then to a person again, who resolves it.
	agentCall(t, base, samToken, "POST", path+"/return-to-ai", nil)
	err = steps(visitor,
		waitText(msgs, "Sam handed the conversation back to the assistant."),
		chromedp.SendKeys("#sb-input", "Sorry, I'd like to talk to a real person again", chromedp.ByQuery),
		chromedp.Click("#sb-send", chromedp.ByQuery),
		waitJS(banner),
	)
	if err != nil {
		t.Fatalf("returned, handed off again: %v", err)
	}
	agentCall(t, base, samToken, "POST", path+"/claim", nil)
	if err := steps(visitor, waitJS("!"+banner)); err != nil {
		t.Fatalf("second join: %v", err)
	}
	agentCall(t, base, samToken, "POST", path+"/resolve", nil)
	var live, reloaded []string
	err = steps(visitor,
		waitText(msgs, "Sam marked the conversation as resolved."),
		waitJS("!"+banner),
		chromedp.Evaluate(threadJS, &live),
		chromedp.Reload(),
		chromedp.Click("#sb-launcher", chromedp.ByQuery),
		waitText(msgs, "Sam marked the conversation as resolved."),
		chromedp.Evaluate(threadJS, &reloaded),
	)
	if err != nil {
		t.Fatalf("resolved, reloaded: %v", err)
	}
	if strings.Join(live, "\n") != strings.Join(reloaded, "\n") {
		t.Errorf("the thread before the reload:\n%s\n\nafter:\n%s", strings.Join(live, "\n"), strings.Join(reloaded, "\n"))
	}
	// Each event once live, and once after the reload.
	for line, want := range map[string]int{"Sam joined the conversation.": 2, "Sam handed the conversation back to the assistant.": 1} {
		var n int
		if err := chromedp.Run(visitor, chromedp.Evaluate(countJS(line), &n)); err != nil || n != want {
			t.Errorf("after the reload %q shows %d times (%v), want %d", line, n, err, want)
		}
	}
}

// rectJS is the element's box as [left, top, right, bottom].
func rectJS(sel string) string {
	return fmt.Sprintf(`(() => { const r = document.querySelector(%q).getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; })()`, sel)
}

// On a phone the open chat is the whole screen, closes with its own
// button, and the launcher does not show under it.
func TestBrowserWidgetOnAPhone(t *testing.T) {
	exe := chromium(t)
	g, stop := start(t, fixture(t))
	defer stop()
	visitor := person(t, exe)
	var panel []float64
	var launcherShown, closeShown bool
	err := steps(visitor,
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
		chromedp.Navigate("http://"+g.HTTPAddr()+"/"),
		chromedp.Click("#sb-launcher", chromedp.ByQuery),
		chromedp.WaitVisible("#sb-input", chromedp.ByQuery),
		chromedp.Evaluate(rectJS("#sb-panel"), &panel),
		chromedp.Evaluate(visible("#sb-launcher"), &launcherShown),
		chromedp.Evaluate(visible("#sb-panel .sb-close"), &closeShown),
	)
	if err != nil {
		t.Fatal(err)
	}
	if len(panel) != 4 || panel[0] > 0 || panel[1] > 0 || panel[2] < 390 || panel[3] < 844 {
		t.Errorf("the open panel covers %v, want the whole 390×844 screen", panel)
	}
	if launcherShown {
		t.Error("the launcher shows while the panel is open")
	}
	if !closeShown {
		t.Fatal("the open panel has no close button")
	}
	err = steps(visitor,
		chromedp.Click("#sb-panel .sb-close", chromedp.ByQuery),
		chromedp.WaitNotVisible("#sb-panel", chromedp.ByQuery),
		waitJS(visible("#sb-launcher")),
	)
	if err != nil {
		t.Errorf("close: %v", err)
	}
}

// On a desktop the open chat leaves the page's contact form usable: every
// field and the button are on top where they are drawn.
func TestBrowserWidgetLeavesTheFormUsable(t *testing.T) {
	exe := chromium(t)
	g, stop := start(t, fixture(t))
	defer stop()
	visitor := person(t, exe)
	var covered []string
	err := steps(visitor,
		chromedp.EmulateViewport(1280, 800),
		chromedp.Navigate("http://"+g.HTTPAddr()+"/"),
		chromedp.Click("#sb-launcher", chromedp.ByQuery),
		chromedp.WaitVisible("#sb-input", chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelector('#demo-contact-form').scrollIntoView({block: 'center'})`, nil),
		chromedp.Evaluate(`Array.from(document.querySelectorAll('#demo-contact-form input, #demo-contact-form button'))
		  .filter((e) => e.checkVisibility())
		  .filter((e) => { const r = e.getBoundingClientRect();
		    const at = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
		    return !(at === e || e.contains(at)); })
		  .map((e) => e.name || e.textContent)`, &covered),
	)
	if err != nil {
		t.Fatal(err)
	}
	if len(covered) > 0 {
		t.Errorf("the open chat covers the contact form's %v", covered)
	}
}
