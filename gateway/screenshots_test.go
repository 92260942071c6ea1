package gateway

import (
	"bytes"
	"context"
	"flag"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"switchboard/store"
)

var screenshots = flag.Bool("screenshots", false, "write the README's screenshots to docs/screenshots (without it they go to a temporary folder, so the flows still run)")

// maxScreenshot keeps the README's pictures small enough for the repository.
const maxScreenshot = 300 << 10

// snap saves what the browser shows (the viewport, as a person sees it) as
// docs/screenshots/name.png, recompressed.
func snap(t *testing.T, name string) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		var raw []byte
		if err := chromedp.CaptureScreenshot(&raw).Do(ctx); err != nil {
			return err
		}
		img, err := png.Decode(bytes.NewReader(raw))
		if err != nil {
			return err
		}
		var out bytes.Buffer
		if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&out, img); err != nil {
			return err
		}
		if out.Len() > maxScreenshot {
			t.Errorf("%s.png is %d KB, over %d KB", name, out.Len()>>10, maxScreenshot>>10)
		}
		dir := filepath.Join("..", "docs", "screenshots")
		if !*screenshots {
			dir = t.TempDir()
		}
		p := filepath.Join(dir, name+".png")
		if err := os.WriteFile(p, out.Bytes(), 0o644); err != nil {
			return err
		}
		t.Logf("%s: %d KB", p, out.Len()>>10)
		return nil
	})
}

// TestScreenshots walks the flows the README's screenshots show, the widget
// (at 1280 and 390 px) and the console (claim, reply, resolve, a phone
// call), and checks each picture stays small. With -screenshots it
// rewrites them in docs/screenshots:
//
//	go test -run TestScreenshots ./gateway/ -screenshots
func TestScreenshots(t *testing.T) {
	g, base, agent := deskRig(t)
	visitor := person(t, chromium(t))
	msgs := "#sb-messages"

	// Sam has the console open when the visitor asks for a person.
	if err := steps(agent, chromedp.EmulateViewport(1280, 800), signIn(base, samToken), waitText("#conn-status", "Live")); err != nil {
		t.Fatal(err)
	}
	err := steps(visitor,
		chromedp.EmulateViewport(1280, 800),
		chromedp.Navigate(base+"/"),
		chromedp.Click("#sb-launcher", chromedp.ByQuery),
		chromedp.WaitVisible("#sb-input", chromedp.ByQuery),
		chromedp.SendKeys("#sb-input", "How long do I have to return an item?", chromedp.ByQuery),
		chromedp.Click("#sb-send", chromedp.ByQuery),
		waitText(msgs+` .sb-msg[data-role="ai"]`, "30 days"),
		chromedp.SendKeys("#sb-input", "My chair arrived damaged. I'd like to talk to a real person", chromedp.ByQuery),
		chromedp.Click("#sb-send", chromedp.ByQuery),
		waitJS(visible("#demo-handoff-banner")),
		chromedp.SendKeys(`#demo-contact-form [name="name"]`, "Ada Lovelace", chromedp.ByQuery),
		chromedp.SendKeys(`#demo-contact-form [name="email"]`, "ada@example.com", chromedp.ByQuery),
		chromedp.SendKeys(`#demo-contact-form [name="order_number"]`, "PP-5512", chromedp.ByQuery),
		chromedp.Click(`#demo-contact-form button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible("#demo-contact-done", chromedp.ByQuery),
	)
	if err != nil {
		t.Fatalf("visitor: %v", err)
	}
	id, err := visitorConversation(visitor)
	if err != nil {
		t.Fatal(err)
	}
	err = steps(agent,
		open(store.ConversationID(id)),
		chromedp.Click("#claim", chromedp.ByQuery),
		waitText("#claim", "Claimed by you"),
		snap(t, "console-claim"),
		press('r'),
		chromedp.SendKeys("#reply", "Hi Ada, I'm Sam. I'm sorry about the chair: I've booked a free pickup and a replacement for order PP-5512.", chromedp.ByQuery),
		chromedp.Click("#reply-send", chromedp.ByQuery),
		waitText("#transcript", "free pickup"),
		snap(t, "console-reply"),
	)
	if err != nil {
		t.Fatalf("agent: %v", err)
	}
	err = steps(visitor,
		waitText(msgs+` .sb-msg[data-role="agent"]`, "free pickup"),
		chromedp.SendKeys("#sb-input", "Thank you, that's perfect!", chromedp.ByQuery),
		chromedp.Click("#sb-send", chromedp.ByQuery),
		waitText(msgs, "that's perfect"),
		chromedp.Evaluate(`document.querySelector('#help').scrollIntoView({block: 'center'})`, nil),
		snap(t, "widget-1280"),
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
		chromedp.Reload(),
		chromedp.Click("#sb-launcher", chromedp.ByQuery),
		waitText(msgs, "that's perfect"),
		snap(t, "widget-390"),
	)
	if err != nil {
		t.Fatalf("visitor after the reply: %v", err)
	}
	phone := callHandedOff(t, g.Store())
	err = steps(agent,
		waitText("#transcript", "that's perfect"),
		chromedp.Click("#resolve", chromedp.ByQuery),
		waitText("#action-msg", "Resolved"),
		waitText("#transcript", "marked the conversation as resolved"),
		snap(t, "console-resolve"),
		chromedp.Reload(),
		open(phone),
		waitText("#reply-note", "transferred to support_line"),
		snap(t, "console-phone-call"),
	)
	if err != nil {
		t.Fatalf("agent, resolve and phone call: %v", err)
	}
}

// callHandedOff stores a phone call as the voice channel leaves one that
// was transferred by REFER and has ended here.
func callHandedOff(t *testing.T, st store.Store) store.ConversationID {
	t.Helper()
	ctx := context.Background()
	c, err := st.CreateConversation(ctx, store.Conversation{Channel: store.ChannelVoice, Customer: "sip:+15550142@192.0.2.10"})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []store.Message{
		{Role: store.RoleSystem, Text: "Call from sip:+15550142@192.0.2.10 to sip:support@127.0.0.1 (G722)."},
		{Role: store.RoleAI, Text: "Hello, you're through to Parcel & Pine. How can I help?"},
		{Role: store.RoleCustomer, Text: "I was charged twice for my order"},
		{Role: store.RoleAI, Text: "I'm sorry about that. Billing disputes are handled by our team: I'm transferring you now."},
	} {
		m.ConversationID = c.ID
		if _, _, err := st.AppendMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	_, err = st.RequestHandoff(ctx, store.Handoff{ConversationID: c.ID, Trigger: "restricted_topic", Reason: "restricted_topic",
		Topic: "billing_disputes", Target: "support_line", Sentiment: -0.4, CreatedAt: time.Now().Add(-3 * time.Minute),
		Summary: "Caller says they were charged twice for an order; restricted topic billing_disputes, transferred to the support line."})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.AppendMessage(ctx, store.Message{ConversationID: c.ID, Role: store.RoleSystem,
		Text: "Transferred to support_line (sip:support-desk@127.0.0.1:5070) by REFER."}); err != nil {
		t.Fatal(err)
	}
	return c.ID
}
