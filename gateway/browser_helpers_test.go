package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
)

// waitJS polls until the JavaScript expression is true in the page.
func waitJS(expr string) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		for {
			var ok bool
			if err := chromedp.Run(ctx, chromedp.Evaluate(expr, &ok)); err == nil && ok {
				return nil
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("never true: %s: %w", expr, ctx.Err())
			case <-time.After(100 * time.Millisecond):
			}
		}
	})
}

// waitContent polls until the element's text content (as written, before
// CSS changes its case) contains want.
func waitContent(sel, want string) chromedp.Action {
	return waitJS(fmt.Sprintf(`(() => { const e = document.querySelector(%q); return !!e && e.textContent.includes(%q); })()`, sel, want))
}

// visible is a JavaScript expression: the element matching sel is shown.
func visible(sel string) string {
	return fmt.Sprintf(`(() => { const e = document.querySelector(%q); return !!e && e.checkVisibility(); })()`, sel)
}

// agentCall makes an agent API call the way the console does, and fails the
// test unless it answers 2xx.
func agentCall(t *testing.T, base, token, method, path string, body any) map[string]any {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode/100 != 2 {
		t.Fatalf("%s %s = %d %s", method, path, res.StatusCode, raw)
	}
	out := map[string]any{}
	_ = json.Unmarshal(raw, &out)
	return out
}

// visitorConversation is the id of the conversation the widget holds.
func visitorConversation(ctx context.Context) (string, error) {
	var id string
	err := chromedp.Run(ctx, chromedp.Evaluate(`window.Switchboard.conversation().id`, &id))
	return id, err
}

// press presses one letter key the way a keyboard does in Chromium: one
// keydown that carries the text, then a keyup. (chromedp.KeyEvent sends the
// text in a separate "char" event, which a handler that prevents the
// keydown's default cannot stop, unlike a real key press.)
func press(letter rune) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		key, code, vk := string(letter), "Key"+strings.ToUpper(string(letter)), int64(unicode.ToUpper(letter))
		down := input.DispatchKeyEvent(input.KeyDown).WithKey(key).WithCode(code).WithText(key).
			WithUnmodifiedText(key).WithWindowsVirtualKeyCode(vk).WithNativeVirtualKeyCode(vk)
		if err := down.Do(ctx); err != nil {
			return err
		}
		return input.DispatchKeyEvent(input.KeyUp).WithKey(key).WithCode(code).
			WithWindowsVirtualKeyCode(vk).WithNativeVirtualKeyCode(vk).Do(ctx)
	})
}
