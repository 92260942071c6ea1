package sip

import (
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// updateContext rewrites the golden files under testdata/context:
//
//	go test ./sip/ -run Golden -updateContext
var updateContext = flag.Bool("updateContext", false, "rewrite sip/testdata/context golden files")

// ctxValue returns the value of the named header, or "" and false.
func ctxValue(hs []Header, name string) (string, bool) {
	for _, h := range hs {
		if h.Name == name {
			return h.Value, true
		}
	}
	return "", false
}

// ctxDecodeReferTo takes a Refer-To value apart the way a receiver would:
// the URI between the angle brackets must parse with net/url, and its
// headers come back in order, unescaped. It also checks that
// url.ParseQuery reads the same values.
func ctxDecodeReferTo(t testing.TB, referTo string) (base string, hs []Header) {
	t.Helper()
	if !strings.HasPrefix(referTo, "<") || !strings.HasSuffix(referTo, ">") {
		t.Fatalf("Refer-To %q is not in angle brackets", referTo)
	}
	raw := referTo[1 : len(referTo)-1]
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("url.Parse(%q): %v", raw, err)
	}
	base, _, _ = strings.Cut(raw, "?")
	if u.RawQuery == "" {
		return base, nil
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		t.Fatalf("url.ParseQuery(%q): %v", u.RawQuery, err)
	}
	for _, pair := range strings.Split(u.RawQuery, "&") {
		n, v, _ := strings.Cut(pair, "=")
		name, err1 := url.PathUnescape(n)
		value, err2 := url.PathUnescape(v)
		if err1 != nil || err2 != nil {
			t.Fatalf("unescape %q: %v %v", pair, err1, err2)
		}
		hs = append(hs, Header{Name: name, Value: value})
	}
	for _, h := range hs {
		if !contains(q[h.Name], h.Value) {
			t.Fatalf("url.ParseQuery gives %s=%q, want %q among them", h.Name, q[h.Name], h.Value)
		}
	}
	return base, hs
}

// ctxCheckSafe fails when a header value could break the SIP message.
func ctxCheckSafe(t testing.TB, h Header, max int) {
	t.Helper()
	if strings.ContainsAny(h.Value, "\r\n\x00") || hasControl(h.Value) {
		t.Errorf("%s: value %q has control characters", h.Name, h.Value)
	}
	if !utf8.ValidString(h.Value) {
		t.Errorf("%s: value %q is not UTF-8", h.Name, h.Value)
	}
	if len(h.Value) > max {
		t.Errorf("%s: value is %d bytes, over %d", h.Name, len(h.Value), max)
	}
}

func TestContextHeadersCarryTheContext(t *testing.T) {
	hs := ContextHeaders(Context{
		ConversationID: "c0ffee-42",
		Reason:         "restricted_topic",
		Trigger:        "topic",
		Topic:          "billing",
		Summary:        "Customer wants a refund for order 1234.",
		ConsoleURL:     "https://sb.example.com/console/conversations/",
	})
	want := []Header{
		{HeaderConversation, "c0ffee-42"},
		{HeaderReason, "restricted_topic;trigger=topic;topic=billing"},
		{HeaderSummary, "Customer wants a refund for order 1234."},
		{HeaderLink, "https://sb.example.com/console/conversations/c0ffee-42"},
		{HeaderUserToUser, hex.EncodeToString([]byte("conversation=c0ffee-42;reason=restricted_topic")) + ";encoding=hex"},
	}
	if !reflect.DeepEqual(hs, want) {
		t.Fatalf("ContextHeaders:\n got %q\nwant %q", hs, want)
	}
}

func TestContextHeadersLeaveOutEmptyValues(t *testing.T) {
	tests := []struct {
		name string
		c    Context
		want []string
	}{
		{"nothing", Context{}, nil},
		{"id only", Context{ConversationID: "a"}, []string{HeaderConversation, HeaderUserToUser}},
		{"no reason drops trigger", Context{ConversationID: "a", Trigger: "dtmf"}, []string{HeaderConversation, HeaderUserToUser}},
		{"no console", Context{ConversationID: "a", Reason: "r", Summary: " \r\n\t "}, []string{HeaderConversation, HeaderReason, HeaderUserToUser}},
		{"console without id", Context{ConsoleURL: "https://x/", Reason: "r"}, []string{HeaderReason, HeaderUserToUser}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, h := range ContextHeaders(tt.c) {
				got = append(got, h.Name)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("header names = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSummaryIsHeaderSafeAndCut(t *testing.T) {
	long := strings.Repeat("a", 300)
	tests := []struct {
		name, summary, want string
	}{
		{"crlf injection", "x\r\nVia: evil", "x Via: evil"},
		{"bare lf and cr", "a\nb\rc", "a b c"},
		{"nul and controls", "a\x00b\x07c\x1bd\x7fe\u0085f", "abcde f"},
		{"whitespace folded", "  one \t\t two\n\n\nthree  ", "one two three"},
		{"unicode spaces", "a\u00a0\u2028\u2029b", "a b"},
		{"invalid utf-8 dropped", "a\xffb\xc3", "ab"},
		{"quotes and semicolons kept", `say "hi"; x=1 & y?`, `say "hi"; x=1 & y?`},
		{"exactly 200", long[:200], long[:200]},
		{"201 cut", long[:201], long[:197] + "…"},
		{"2-byte runes", strings.Repeat("é", 150), strings.Repeat("é", 98) + "…"},
		{"3-byte runes", strings.Repeat("€", 100), strings.Repeat("€", 65) + "…"},
		{"emoji", strings.Repeat("😀", 60), strings.Repeat("😀", 49) + "…"},
		{"emoji off by one", "x" + strings.Repeat("😀", 60), "x" + strings.Repeat("😀", 49) + "…"},
		{"cut before space", strings.Repeat("a", 196) + " bcdefgh", strings.Repeat("a", 196) + "…"},
		{"cut after whole emoji", strings.Repeat("a", 193) + "👨\u200d👩\u200d👧", strings.Repeat("a", 193) + "👨…"},
		{"dangling zwj dropped", strings.Repeat("a", 190) + "👨\u200d👩\u200d👧", strings.Repeat("a", 190) + "👨…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := ctxValue(ContextHeaders(Context{Summary: tt.summary}), HeaderSummary)
			if got != tt.want {
				t.Errorf("summary = %q, want %q", got, tt.want)
			}
			ctxCheckSafe(t, Header{HeaderSummary, got}, maxSummaryBytes)
		})
	}
}

func TestReasonParametersCannotBeInjected(t *testing.T) {
	tests := []struct {
		name string
		c    Context
		want string
	}{
		{"reason only", Context{Reason: "customer_request"}, "customer_request"},
		{"trigger only", Context{Reason: "frustration", Trigger: "sentiment"}, "frustration;trigger=sentiment"},
		{"topic with spaces", Context{Reason: "restricted_topic", Topic: "billing disputes"}, `restricted_topic;topic="billing disputes"`},
		{"topic with params", Context{Reason: "r", Topic: "x;trigger=fake"}, `r;topic="x;trigger=fake"`},
		{"quotes escaped", Context{Reason: "r", Trigger: `a"b\c`}, `r;trigger="a\"b\\c"`},
		{"crlf in reason", Context{Reason: "r\r\nVia: evil"}, `"r Via: evil"`},
		{"multibyte topic", Context{Reason: "r", Topic: "Rückerstattung"}, `r;topic="Rückerstattung"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := ctxValue(ContextHeaders(tt.c), HeaderReason)
			if got != tt.want {
				t.Errorf("reason = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestUserToUserIsBoundedHex(t *testing.T) {
	tests := []struct {
		name     string
		c        Context
		wantData string
	}{
		{"id and reason", Context{ConversationID: "abc", Reason: "frustration"}, "conversation=abc;reason=frustration"},
		{"separators escaped", Context{ConversationID: "a;b=c%", Reason: "x y"}, "conversation=a%3Bb%3Dc%25;reason=x%20y"},
		{"long reason left out", Context{ConversationID: strings.Repeat("i", 100), Reason: strings.Repeat("r", 30)}, "conversation=" + strings.Repeat("i", 100)},
		{"long id cut", Context{ConversationID: strings.Repeat("i", 128)}, "conversation=" + strings.Repeat("i", 115)},
		{"escape not split", Context{ConversationID: strings.Repeat("i", 113) + ";;"}, "conversation=" + strings.Repeat("i", 113)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ctxValue(ContextHeaders(tt.c), HeaderUserToUser)
			hexData, params, _ := strings.Cut(got, ";")
			if !ok || params != "encoding=hex" {
				t.Fatalf("User-to-User = %q, want hex data then ;encoding=hex", got)
			}
			data, err := hex.DecodeString(hexData)
			if err != nil {
				t.Fatalf("hex: %v", err)
			}
			if string(data) != tt.wantData {
				t.Errorf("data = %q, want %q", data, tt.wantData)
			}
			if len(data) > maxUUIDataBytes {
				t.Errorf("data is %d bytes, over %d", len(data), maxUUIDataBytes)
			}
		})
	}
}

// A masked context carries no masked text in any header built from it:
// the summary, the reason with its parameters, User-to-User and expanded
// templates; identities are kept.
func TestMaskedContextMasksEveryHeader(t *testing.T) {
	mask := strings.NewReplacer("4242", "[card]").Replace
	c := Context{ConversationID: "c-1", Reason: "r4242", Trigger: "t4242", Topic: "4242 topic", Summary: "card 4242 given",
		CallerNumber: "+4242", CalledNumber: "support", ConsoleURL: "https://sb.example.com/c"}.Masked(mask)
	hs := ContextHeaders(c)
	for _, tmpl := range []string{"{{summary}}", "{{topic}} {{trigger}}"} {
		v, err := ExpandTemplate(tmpl, c)
		if err != nil {
			t.Fatal(err)
		}
		hs = append(hs, Header{Name: "X-" + tmpl, Value: v})
	}
	for _, h := range hs {
		v := h.Value
		if h.Name == HeaderUserToUser {
			data, err := hex.DecodeString(strings.TrimSuffix(v, uuiParams))
			if err != nil {
				t.Fatal(err)
			}
			if v, err = url.PathUnescape(string(data)); err != nil {
				t.Fatal(err)
			}
		}
		if strings.Contains(v, "4242") {
			t.Errorf("%s: %q carries the masked text", h.Name, v)
		}
	}
	if got, _ := ctxValue(hs, HeaderSummary); got != "card [card] given" {
		t.Errorf("summary %q, want it masked", got)
	}
	if c.CallerNumber != "+4242" || c.ConversationID != "c-1" || c.ConsoleURL != "https://sb.example.com/c" {
		t.Errorf("identities changed: %+v", c)
	}
}

func TestLinkJoinsConsoleAndConversation(t *testing.T) {
	tests := []struct {
		console, id, want string
	}{
		{"https://sb.example.com/c", "42", "https://sb.example.com/c/42"},
		{"https://sb.example.com/c///", "42", "https://sb.example.com/c/42"},
		{"https://sb.example.com/c/", "a b/c?d", "https://sb.example.com/c/a%20b%2Fc%3Fd"},
		{"https://sb.example.com/\r\nVia: x", "42", "https://sb.example.com/ Via: x/42"},
		{"https://sb.example.com/" + strings.Repeat("p", 600), "42", ""},
	}
	for _, tt := range tests {
		got, _ := ctxValue(ContextHeaders(Context{ConversationID: tt.id, ConsoleURL: tt.console}), HeaderLink)
		if got != tt.want {
			t.Errorf("link(%q, %q) = %q, want %q", tt.console, tt.id, got, tt.want)
		}
	}
}

func TestExpandTemplate(t *testing.T) {
	c := Context{
		ConversationID: "c-1",
		Trigger:        "dtmf",
		Topic:          "billing",
		Summary:        "line one\r\nline two",
		CallerNumber:   "+15551230000",
		CalledNumber:   "+15559870000",
	}
	tests := []struct {
		name, tmpl, want string
		unknown          []string
	}{
		{"plain", "static", "static", nil},
		{"all variables", "{{caller}}>{{called}} {{conversation}} {{trigger}}/{{topic}}: {{summary}}",
			"+15551230000>+15559870000 c-1 dtmf/billing: line one line two", nil},
		{"spaces in braces", "{{ caller }}", "+15551230000", nil},
		{"repeated", "{{topic}}{{topic}}", "billingbilling", nil},
		{"single braces literal", "{caller} }}", "{caller} }}", nil},
		{"unknown named", "{{caller}} {{agent}} {{agent}} {{}}", "", []string{"agent", ""}},
		{"case matters", "{{Caller}}", "", []string{"Caller"}},
		{"crlf in template", "a\r\nVia: evil", "a Via: evil", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ExpandTemplate(tt.tmpl, c)
			if tt.unknown != nil {
				var uv *UnknownVariableError
				if !errors.As(err, &uv) || !reflect.DeepEqual(uv.Names, tt.unknown) {
					t.Fatalf("ExpandTemplate(%q) error = %v, want unknown %q", tt.tmpl, err, tt.unknown)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("ExpandTemplate(%q) = %q, %v; want %q", tt.tmpl, got, err, tt.want)
			}
		})
	}
}

func TestExpandTemplateDoesNotReexpandValues(t *testing.T) {
	got, err := ExpandTemplate("{{summary}}", Context{Summary: "{{agent}} {{caller}}", CallerNumber: "1"})
	if err != nil || got != "{{agent}} {{caller}}" {
		t.Errorf("got %q, %v; want the summary verbatim", got, err)
	}
}

func TestExpandTemplateRejectsUnterminated(t *testing.T) {
	if _, err := ExpandTemplate("x {{caller", Context{}); err == nil || !strings.Contains(err.Error(), "unterminated") {
		t.Errorf("err = %v, want unterminated", err)
	}
}

func TestExpandTemplateBoundsTheResult(t *testing.T) {
	got, err := ExpandTemplate(strings.Repeat("{{summary}}", 5), Context{Summary: strings.Repeat("s", 300)})
	if err != nil {
		t.Fatal(err)
	}
	ctxCheckSafe(t, Header{"template", got}, maxTemplateBytes)
	if !strings.HasSuffix(got, "…") {
		t.Errorf("long result %q not cut with an ellipsis", got)
	}
}

func TestReferTargetRoundTrips(t *testing.T) {
	tricky := []Header{
		{"X-Switchboard-Summary", `He said "refund"; order #12 & ? = % + 100%`},
		{"X-Switchboard-Reason", `restricted_topic;topic="billing disputes"`},
		{"X-Emoji", "ça 😀 €"},
		{"X-Reserved", "[]/?:$-_.!~*'()"},
	}
	tests := []struct {
		name, target, wantBase string
		hs                     []Header
		wantPrefix             []Header // headers already in the target
	}{
		{"sip", "sip:agent@pbx.example.com", "sip:agent@pbx.example.com", tricky, nil},
		{"sips with params", "sips:+15550001111@trunk.example.com;transport=tls", "sips:+15550001111@trunk.example.com;transport=tls", tricky, nil},
		{"upper-case scheme", "SIP:agent@pbx", "SIP:agent@pbx", tricky[:1], nil},
		{"existing query", "sip:agent@pbx?Priority=urgent", "sip:agent@pbx", tricky, []Header{{"Priority", "urgent"}}},
		{"trailing question mark", "sip:agent@pbx?", "sip:agent@pbx", tricky[:1], nil},
		{"tel without headers", "tel:+15550001111", "tel:+15550001111", nil, nil},
		{"sip without headers", "sip:agent@pbx", "sip:agent@pbx", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReferTarget(tt.target, tt.hs)
			if err != nil {
				t.Fatal(err)
			}
			if strings.ContainsAny(got, " \"\r\n;#") && !strings.Contains(tt.target, ";") {
				t.Errorf("Refer-To %q has characters the URI headers must escape", got)
			}
			base, hs := ctxDecodeReferTo(t, got)
			if base != tt.wantBase {
				t.Errorf("base = %q, want %q", base, tt.wantBase)
			}
			want := append(append([]Header(nil), tt.wantPrefix...), tt.hs...)
			if !reflect.DeepEqual(hs, want) && len(hs)+len(want) > 0 {
				t.Errorf("decoded headers:\n got %q\nwant %q", hs, want)
			}
		})
	}
}

func TestReferTargetRejects(t *testing.T) {
	hs := []Header{{"X-A", "b"}}
	tests := []struct {
		name, target string
		hs           []Header
	}{
		{"tel with headers", "tel:+15550001111", hs},
		{"http", "https://example.com", hs},
		{"no scheme", "agent@pbx", nil},
		{"angle bracket", "sip:a@b>;x", nil},
		{"space", "sip:a b@c", nil},
		{"crlf in target", "sip:a@b\r\nVia: evil", nil},
		{"crlf in value", "sip:a@b", []Header{{"X-A", "x\r\nVia: evil"}}},
		{"nul in name", "sip:a@b", []Header{{"X-\x00", "v"}}},
		{"empty name", "sip:a@b", []Header{{"", "v"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := ReferTarget(tt.target, tt.hs); err == nil {
				t.Errorf("ReferTarget(%q) = %q, want an error", tt.target, got)
			}
		})
	}
	if _, err := ReferTarget("tel:+1", hs); !errors.Is(err, ErrUnsupportedTarget) {
		t.Errorf("tel: error %v is not ErrUnsupportedTarget", err)
	}
}

// ctxGoldenCases are the contexts whose headers and Refer-To URIs are kept
// under testdata/context so that a change on the wire shows in review.
var ctxGoldenCases = []struct {
	name   string
	target string
	c      Context
}{
	{"typical", "sip:agents@pbx.example.com;transport=tcp", Context{
		ConversationID: "7f3c2a9e-0b1d-4e57-9a66-2d5c1e8b4f10",
		Reason:         "customer_request",
		Trigger:        "dtmf",
		Summary:        "Caller asks to change the delivery address of order 88123; already verified by email.",
		CallerNumber:   "+4930123456",
		CalledNumber:   "+4930999000",
		ConsoleURL:     "https://switchboard.example.com/console/conversations",
	}},
	{"hostile", "sips:+15550001111@trunk.example.com?Priority=urgent", Context{
		ConversationID: "c-2",
		Reason:         "restricted_topic",
		Trigger:        "topic\r\nVia: SIP/2.0/UDP evil",
		Topic:          `legal; "threats" & more`,
		Summary:        "x\r\nVia: evil\x00 Über 😀 100% sure? a=b&c " + strings.Repeat("long ", 50),
		ConsoleURL:     "https://switchboard.example.com/c/",
	}},
	{"minimal", "sip:fallback@pbx", Context{ConversationID: "c-3", Reason: "frustration"}},
}

func TestContextGolden(t *testing.T) {
	var headers, refer strings.Builder
	for _, gc := range ctxGoldenCases {
		hs := ContextHeaders(gc.c)
		fmt.Fprintf(&headers, "== %s\n", gc.name)
		for _, h := range hs {
			fmt.Fprintf(&headers, "%s: %s\n", h.Name, h.Value)
		}
		to, err := ReferTarget(gc.target, hs)
		if err != nil {
			t.Fatalf("%s: %v", gc.name, err)
		}
		fmt.Fprintf(&refer, "== %s\nRefer-To: %s\n", gc.name, to)
	}
	ctxCompareGolden(t, "context_headers.golden", headers.String())
	ctxCompareGolden(t, "refer_target.golden", refer.String())
}

func ctxCompareGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "context", name)
	if *updateContext {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -updateContext to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (run with -updateContext if intended):\n got:\n%s\nwant:\n%s", path, got, want)
	}
}

// FuzzContextHeaders checks, for any context and template, that no value
// can break a SIP message, every value is bounded, and the Refer-To URI
// carrying the headers decodes back to exactly those values.
func FuzzContextHeaders(f *testing.F) {
	f.Add("c-1", "customer_request", "dtmf", "billing", "summary", "+1555", "+1666", "https://sb/c/", "{{caller}}")
	f.Add("x\r\nVia: evil", "r;a=b", `"q"`, "t&?=%+", "😀\u200d\xff", "", "", "", "{{nope}}")
	f.Fuzz(func(t *testing.T, id, reason, trigger, topic, summary, caller, called, console, tmpl string) {
		c := Context{id, reason, trigger, topic, summary, caller, called, console}
		hs := ContextHeaders(c)
		for _, h := range hs {
			max := maxLinkBytes
			switch h.Name {
			case HeaderSummary:
				max = maxSummaryBytes
			case HeaderUserToUser:
				max = 2*maxUUIDataBytes + len(uuiParams)
			}
			ctxCheckSafe(t, h, max)
		}
		to, err := ReferTarget("sip:agent@pbx.example.com;transport=tcp", hs)
		if err != nil {
			t.Fatalf("ReferTarget: %v", err)
		}
		if _, got := ctxDecodeReferTo(t, to); !reflect.DeepEqual(got, hs) {
			t.Fatalf("Refer-To %q decodes to %q, want %q", to, got, hs)
		}
		if v, err := ExpandTemplate(tmpl, c); err == nil {
			ctxCheckSafe(t, Header{"template", v}, maxTemplateBytes)
		}
		// Raw, unsanitised headers: an error, or an exact round trip.
		raw := []Header{{"X-" + topic, summary}}
		if to, err := ReferTarget("sip:a@b", raw); err == nil {
			if _, got := ctxDecodeReferTo(t, to); !reflect.DeepEqual(got, raw) {
				t.Fatalf("raw Refer-To %q decodes to %q, want %q", to, got, raw)
			}
		}
	})
}
