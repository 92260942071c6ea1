package gateway

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"switchboard/store"
)

const kimToken = "browser-test-kim-token-0123"

// desk starts a gateway with two agents, Sam and Kim, and a browser for
// Sam that is not signed in yet.
func deskRig(t *testing.T) (*Gateway, string, context.Context) {
	t.Helper()
	exe := chromium(t)
	t.Setenv("SWITCHBOARD_AGENT_TOKENS", "sam:"+samToken+",kim:"+kimToken)
	g, stop := start(t, fixture(t))
	t.Cleanup(func() { _ = stop() })
	return g, "http://" + g.HTTPAddr(), person(t, exe)
}

// signIn opens the console and signs in with token.
func signIn(base, token string) chromedp.Action {
	return chromedp.Tasks{
		chromedp.Navigate(base + "/agent"),
		chromedp.WaitVisible("#agent-token", chromedp.ByQuery),
		chromedp.SendKeys("#agent-token", token, chromedp.ByQuery),
		chromedp.Click("#agent-login", chromedp.ByQuery),
	}
}

// seed stores a conversation on channel handed off to a person at
// handedOff, with what the customer said.
func seed(t *testing.T, st store.Store, channel store.Channel, h store.Handoff, said ...string) store.ConversationID {
	t.Helper()
	ctx := context.Background()
	c, err := st.CreateConversation(ctx, store.Conversation{Channel: channel, Customer: "+15550100"})
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range said {
		role := store.RoleCustomer
		if strings.HasPrefix(text, "Customer details: ") {
			role = store.RoleSystem
		}
		if _, _, err := st.AppendMessage(ctx, store.Message{ConversationID: c.ID, Role: role, Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	h.ConversationID = c.ID
	if h.Trigger == "" {
		h.Trigger, h.Reason = "explicit_request", "customer_request"
	}
	if _, err := st.RequestHandoff(ctx, h); err != nil {
		t.Fatal(err)
	}
	return c.ID
}

// Before signing in there is only the sign-in form: no tabs, no
// connection status; a wrong token says so.
func TestBrowserConsoleSignIn(t *testing.T) {
	_, base, agent := deskRig(t)
	var tabs, conn bool
	var said string
	err := steps(agent,
		chromedp.Navigate(base+"/agent"),
		chromedp.WaitVisible("#agent-token", chromedp.ByQuery),
		chromedp.Evaluate(visible(".tabs"), &tabs),
		chromedp.Evaluate(visible("#conn-status"), &conn),
	)
	if err != nil {
		t.Fatal(err)
	}
	if tabs || conn {
		t.Errorf("on the sign-in screen: tabs shown %v, connection status shown %v", tabs, conn)
	}
	err = steps(agent,
		signIn(base, "not-the-right-token-0123"),
		chromedp.WaitVisible("#login-error", chromedp.ByQuery),
		chromedp.Text("#login-error", &said, chromedp.ByQuery),
		chromedp.Evaluate(visible(".tabs"), &tabs),
		chromedp.Evaluate(visible("#conn-status"), &conn),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.ToLower(said), "wrong token") {
		t.Errorf("a wrong token says %q", said)
	}
	if tabs || conn {
		t.Errorf("after a wrong token: tabs shown %v, connection status shown %v", tabs, conn)
	}
	err = steps(agent,
		chromedp.SendKeys("#agent-token", samToken, chromedp.ByQuery),
		chromedp.Click("#agent-login", chromedp.ByQuery),
		waitJS(visible(".tabs")),
		waitText("#conn-status", "Live"),
	)
	if err != nil {
		t.Errorf("signed in: %v", err)
	}
}

// Insights labels read whole, in words, with the raw code in a tooltip.
func TestBrowserConsoleInsightsLabels(t *testing.T) {
	g, base, agent := deskRig(t)
	seed(t, g.Store(), store.ChannelVoice, store.Handoff{Trigger: "failed_turns", Reason: "unproductive_conversation", Topic: "billing_disputes"}, "this is not working")
	seed(t, g.Store(), store.ChannelWeb, store.Handoff{Trigger: "explicit_request", Reason: "customer_request"}, "a person please")
	var cut []string
	var reason, reasonTitle, topic, channel string
	err := steps(agent,
		signIn(base, samToken),
		waitJS(visible(".tabs")),
		chromedp.Click("#tab-insights", chromedp.ByQuery),
		chromedp.WaitVisible(`#insights-reason .bar[data-key="unproductive_conversation"]`, chromedp.ByQuery),
		chromedp.Text(`#insights-reason .bar[data-key="unproductive_conversation"] .bar-label`, &reason, chromedp.ByQuery),
		chromedp.AttributeValue(`#insights-reason .bar[data-key="unproductive_conversation"] .bar-label`, "title", &reasonTitle, nil, chromedp.ByQuery),
		chromedp.Text(`#insights-topic .bar[data-key="billing_disputes"] .bar-label`, &topic, chromedp.ByQuery),
		chromedp.Text(`#insights-channel .bar[data-key="voice"] .bar-label`, &channel, chromedp.ByQuery),
		chromedp.Evaluate(`Array.from(document.querySelectorAll('.bar-label'))
		  .filter((e) => e.scrollWidth > e.clientWidth + 1).map((e) => e.textContent)`, &cut),
	)
	if err != nil {
		t.Fatal(err)
	}
	if len(cut) > 0 {
		t.Errorf("labels cut off: %q", cut)
	}
	if reason != "Unproductive conversation" || reasonTitle != "unproductive_conversation" {
		t.Errorf("reason label %q (title %q), want words with the code in the title", reason, reasonTitle)
	}
	if topic != "Billing disputes" || channel != "Phone" {
		t.Errorf("topic label %q, channel label %q", topic, channel)
	}
}
