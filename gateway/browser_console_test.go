package gateway

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"switchboard/dialog"
	"switchboard/handoff"
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

// open clicks the conversation's queue item and waits for its packet.
func open(id store.ConversationID) chromedp.Action {
	return chromedp.Tasks{
		chromedp.WaitVisible(`#queue .queue-item[data-id="`+string(id)+`"]`, chromedp.ByQuery),
		chromedp.Click(`#queue .queue-item[data-id="`+string(id)+`"]`, chromedp.ByQuery),
		waitJS(`document.querySelector('#packet-title') && !document.querySelector('#conv').hidden`),
	}
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

// A shortcut key never lands in a text field: "r" after Claim moves to the
// reply box, and the reply holds only what was typed there.
func TestBrowserConsoleShortcutsStayOutOfTextFields(t *testing.T) {
	g, base, agent := deskRig(t)
	id := seed(t, g.Store(), store.ChannelWeb, store.Handoff{}, "I'd like to talk to a real person")
	var reply string
	err := steps(agent,
		signIn(base, samToken),
		open(id),
		chromedp.Click("#claim", chromedp.ByQuery),
		waitText("#claim", "Claimed by you"),
		press('r'),
		waitJS(`document.activeElement && document.activeElement.id === 'reply'`),
		chromedp.KeyEvent("Hi, I'm Sam. Just checking."),
		chromedp.Value("#reply", &reply, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatal(err)
	}
	if reply != "Hi, I'm Sam. Just checking." {
		t.Errorf("the reply box holds %q", reply)
	}
}

// A phone call that was transferred cannot take a written reply: the
// console says where it went and offers no reply box.
func TestBrowserConsolePhoneCallTakesNoReply(t *testing.T) {
	g, base, agent := deskRig(t)
	id := seed(t, g.Store(), store.ChannelVoice, store.Handoff{Target: "support_line"}, "I want to speak to a human agent")
	var replyShown bool
	err := steps(agent,
		signIn(base, samToken),
		open(id),
		waitText("#reply-note", "transferred to support_line"),
		chromedp.Evaluate(visible("#reply-form"), &replyShown),
	)
	if err != nil {
		t.Fatal(err)
	}
	if replyShown {
		t.Error("a reply box is offered for a finished phone call")
	}
	// It can still be claimed and resolved, to clear it from the queue.
	err = steps(agent,
		chromedp.Click("#claim", chromedp.ByQuery),
		waitText("#claim", "Claimed by you"),
		chromedp.Evaluate(visible("#reply-form"), &replyShown),
		chromedp.Click("#resolve", chromedp.ByQuery),
		waitContent("#packet-state", "resolved"),
	)
	if err != nil {
		t.Fatal(err)
	}
	if replyShown {
		t.Error("a reply box is offered for a claimed phone call")
	}
}

// The customer is called by the name they gave in the details form.
func TestBrowserConsoleShowsTheCustomersName(t *testing.T) {
	g, base, agent := deskRig(t)
	details := handoff.CustomerDetails{Name: "Ada Lovelace", Email: "ada@example.com"}
	id := seed(t, g.Store(), store.ChannelWeb, store.Handoff{}, "I'd like to talk to a real person", details.Text())
	err := steps(agent,
		signIn(base, samToken),
		waitText(`#queue .queue-item[data-id="`+string(id)+`"] .qi-customer`, "Ada Lovelace"),
		open(id),
		waitText("#packet-title", "Ada Lovelace"),
	)
	if err != nil {
		t.Fatal(err)
	}
}

// What the console said about the last action goes once the conversation
// moves on (a new handoff) or another conversation is opened.
func TestBrowserConsoleStatusLineDoesNotGoStale(t *testing.T) {
	g, base, agent := deskRig(t)
	first := seed(t, g.Store(), store.ChannelWeb, store.Handoff{}, "I'd like to talk to a real person")
	second := seed(t, g.Store(), store.ChannelWeb, store.Handoff{}, "Can a person help me?")
	err := steps(agent,
		signIn(base, samToken),
		open(first),
		chromedp.Click("#claim", chromedp.ByQuery),
		waitText("#claim", "Claimed by you"),
		chromedp.Click("#return-ai", chromedp.ByQuery),
		waitText("#action-msg", "Returned to the AI assistant."),
	)
	if err != nil {
		t.Fatal(err)
	}
	// The customer asks again: a new handoff of the open conversation.
	if _, err := g.Conductor().CustomerMessage(context.Background(), dialog.Inbound{ConversationID: first, Text: "I'd like to talk to a real person, please"}); err != nil {
		t.Fatal(err)
	}
	err = steps(agent,
		waitContent("#packet-state", "waiting"),
		waitJS(`document.querySelector('#action-msg').textContent === ''`),
		chromedp.Click("#claim", chromedp.ByQuery),
		waitText("#claim", "Claimed by you"),
		chromedp.Click("#return-ai", chromedp.ByQuery),
		waitText("#action-msg", "Returned to the AI assistant."),
		open(second),
		waitJS(`document.querySelector('#action-msg').textContent === ''`),
	)
	if err != nil {
		t.Fatal(err)
	}
}

// The queue shows how long each waiting customer has waited, who holds
// the others, and which agents are online.
func TestBrowserConsoleShowsWaitingTimesAndWhoIsOnline(t *testing.T) {
	g, base, agent := deskRig(t)
	ctx := context.Background()
	waitingID := seed(t, g.Store(), store.ChannelWeb, store.Handoff{CreatedAt: time.Now().Add(-12*time.Minute - 20*time.Second)}, "Can a person help me?")
	heldID := seed(t, g.Store(), store.ChannelWeb, store.Handoff{}, "I'd like to talk to a real person")
	if err := g.Store().Claim(ctx, heldID, "kim"); err != nil {
		t.Fatal(err)
	}
	kim := person(t, chromium(t))
	if err := steps(kim, signIn(base, kimToken), waitText("#conn-status", "Live")); err != nil {
		t.Fatal(err)
	}
	var heldWait bool
	err := steps(agent,
		signIn(base, samToken),
		waitText(`#queue .queue-item[data-id="`+string(waitingID)+`"] .qi-wait`, "12 min"),
		waitText(`#queue .queue-item[data-id="`+string(heldID)+`"] .qi-agent`, "Kim"),
		chromedp.Evaluate(visible(`#queue .queue-item[data-id="`+string(heldID)+`"] .qi-wait`), &heldWait),
		waitText("#online", "Kim"),
		waitText("#online", "Sam"),
	)
	if err != nil {
		t.Fatal(err)
	}
	if heldWait {
		t.Error("a conversation an agent holds shows a waiting time")
	}
	// Kim leaves: the list follows.
	if err := steps(kim, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
	if err := steps(agent, waitJS(`!document.querySelector('#online').textContent.includes('Kim')`)); err != nil {
		t.Error(err)
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
