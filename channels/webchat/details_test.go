package webchat

import (
	"testing"

	"switchboard/store"
)

// FuzzDetailsRoundTrip: whatever a customer types, details that pass
// validation come back unchanged from the transcript, and parsing any
// system message never panics.
func FuzzDetailsRoundTrip(f *testing.F) {
	f.Add("Ada Lovelace", "ada@example.com", "+44 20 7946 0958", "PP-1234")
	f.Add("Name: x", "a@b.c", "", "Order number: 5")
	f.Add("", "", "", "")
	f.Fuzz(func(t *testing.T, name, email, phone, order string) {
		d := details{Name: name, Email: email, Phone: phone, OrderNumber: order}
		if d.validate() != nil {
			latestDetails([]store.Message{{Role: store.RoleSystem, Text: detailsPrefix + name + email}})
			return
		}
		got := latestDetails([]store.Message{{Role: store.RoleSystem, Text: d.text()}})
		if got == nil || *got != d {
			t.Fatalf("round trip: %+v -> %q -> %+v", d, d.text(), got)
		}
	})
}
