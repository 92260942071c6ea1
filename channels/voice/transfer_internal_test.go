package voice

import (
	"slices"
	"testing"

	"switchboard/sip"
)

// A bridge INVITE that does not fit UDP is tried with fewer context
// headers, each try leaving something out; the conversation id, the
// reason and the target's own headers are in every one.
func TestShrinkingLeavesOutContextHeaders(t *testing.T) {
	all := []sip.Header{{Name: sip.HeaderConversation}, {Name: sip.HeaderReason}, {Name: sip.HeaderSummary},
		{Name: sip.HeaderLink}, {Name: sip.HeaderUserToUser}, {Name: "X-Queue"}}
	names := func(hs []sip.Header) []string {
		var out []string
		for _, h := range hs {
			out = append(out, h.Name)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		hs   []sip.Header
		want [][]string
	}{
		{"every context header", all, [][]string{
			names(all),
			{sip.HeaderConversation, sip.HeaderReason, sip.HeaderLink, sip.HeaderUserToUser, "X-Queue"},
			{sip.HeaderConversation, sip.HeaderReason, "X-Queue"},
		}},
		{"no summary: no try without it", without(all, sip.HeaderSummary), [][]string{
			{sip.HeaderConversation, sip.HeaderReason, sip.HeaderLink, sip.HeaderUserToUser, "X-Queue"},
			{sip.HeaderConversation, sip.HeaderReason, "X-Queue"},
		}},
		{"nothing to leave out", all[:2], [][]string{{sip.HeaderConversation, sip.HeaderReason}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := shrinking(tc.hs)
			if !slices.EqualFunc(got, tc.want, func(hs []sip.Header, want []string) bool { return slices.Equal(names(hs), want) }) {
				t.Errorf("tries %v, want %v", got, tc.want)
			}
		})
	}
}
