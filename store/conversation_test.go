package store

import (
	"regexp"
	"testing"
)

func TestNewConversationIDIsRandomHex(t *testing.T) {
	hex128 := regexp.MustCompile(`^[0-9a-f]{32}$`)
	seen := map[ConversationID]bool{}
	for range 1000 {
		id, err := NewConversationID()
		if err != nil {
			t.Fatalf("NewConversationID: %v", err)
		}
		if !hex128.MatchString(string(id)) || seen[id] {
			t.Fatalf("NewConversationID = %q: want fresh 128-bit hex", id)
		}
		seen[id] = true
	}
}

func TestValid(t *testing.T) {
	for _, tc := range []struct {
		name string
		got  bool
		want bool
	}{
		{"state ai", StateAI.Valid(), true},
		{"state pending_human", StatePendingHuman.Valid(), true},
		{"state human", StateHuman.Valid(), true},
		{"state resolved", StateResolved.Valid(), true},
		{"state empty", State("").Valid(), false},
		{"state AI (case)", State("AI").Valid(), false},
		{"role customer", RoleCustomer.Valid(), true},
		{"role ai", RoleAI.Valid(), true},
		{"role agent", RoleAgent.Valid(), true},
		{"role system", RoleSystem.Valid(), true},
		{"role bot", Role("bot").Valid(), false},
		{"channel web", ChannelWeb.Valid(), true},
		{"channel webchat", Channel("webchat").Valid(), false},
		{"channel empty", Channel("").Valid(), false},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: Valid = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
}

func TestChannelsAreTheValidOnes(t *testing.T) {
	seen := map[Channel]bool{}
	for _, c := range Channels() {
		if !c.Valid() || seen[c] {
			t.Errorf("Channels() lists %q: want each valid channel once", c)
		}
		seen[c] = true
	}
	if len(seen) != 6 {
		t.Errorf("Channels() = %v, want the 6 channels", Channels())
	}
	Channels()[0] = "changed"
	if Channels()[0] != ChannelWeb {
		t.Error("Channels() returns a shared slice: a caller changed it for everyone")
	}
}
