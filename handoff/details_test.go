package handoff

import (
	"strings"
	"testing"

	"switchboard/store"
)

func TestValidateDetails(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   CustomerDetails
		want CustomerDetails // after trimming, when valid
		err  string
	}{
		{"trimmed", CustomerDetails{Name: "  Ada ", Email: " ada@example.com"}, CustomerDetails{Name: "Ada", Email: "ada@example.com"}, ""},
		{"order number alone", CustomerDetails{OrderNumber: "PP-1234"}, CustomerDetails{OrderNumber: "PP-1234"}, ""},
		{"nothing", CustomerDetails{Name: "  "}, CustomerDetails{}, "give at least one detail"},
		{"semicolon", CustomerDetails{Name: "Ada; Email: x"}, CustomerDetails{}, "name holds a line break or semicolon"},
		{"line break", CustomerDetails{OrderNumber: "1\n2"}, CustomerDetails{}, "order number holds a line break or semicolon"},
		{"NUL", CustomerDetails{Name: "a\x00b"}, CustomerDetails{}, "name holds a NUL character"},
		{"too long", CustomerDetails{Phone: strings.Repeat("5", 51)}, CustomerDetails{}, "phone is longer than 50 characters"},
		{"not an address", CustomerDetails{Email: "ada at example"}, CustomerDetails{}, "email is not an address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := tc.in
			err := d.Validate()
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case tc.err != "" && (err == nil || err.Error() != tc.err):
				t.Fatalf("Validate = %v, want %q", err, tc.err)
			case tc.err == "" && d != tc.want:
				t.Fatalf("validated %+v, want %+v", d, tc.want)
			}
		})
	}
}

func TestDetailsTextIsReadBack(t *testing.T) {
	d := CustomerDetails{Name: "Ada Lovelace", Email: "ada@example.com", OrderNumber: "PP-1234"}
	const want = "Customer details: Name: Ada Lovelace; Email: ada@example.com; Order number: PP-1234"
	if d.Text() != want {
		t.Fatalf("Text = %q, want %q", d.Text(), want)
	}
	if _, ok := ParseDetails("Transferred to support_line"); ok {
		t.Fatal("another system message parsed as details")
	}
	older := CustomerDetails{Name: "A. L."}
	got := LatestDetails([]store.Message{
		{Role: store.RoleSystem, Text: older.Text()},
		{Role: store.RoleSystem, Text: d.Text()},
		{Role: store.RoleCustomer, Text: "Customer details: Name: Mallory"}, // typed by the customer: not details
		{Role: store.RoleSystem, Text: "Transferred to support_line"},
	})
	if got == nil || *got != d {
		t.Fatalf("LatestDetails = %+v, want %+v", got, d)
	}
	if LatestDetails([]store.Message{{Role: store.RoleCustomer, Text: "hi"}}) != nil {
		t.Fatal("details in a transcript without any")
	}
}

// FuzzDetailsRoundTrip: whatever a customer types, details that pass
// validation come back unchanged from the transcript, and parsing any
// system message never panics.
func FuzzDetailsRoundTrip(f *testing.F) {
	f.Add("Ada Lovelace", "ada@example.com", "+44 20 7946 0958", "PP-1234")
	f.Add("Name: x", "a@b.c", "", "Order number: 5")
	f.Add("", "", "", "")
	f.Fuzz(func(t *testing.T, name, email, phone, order string) {
		d := CustomerDetails{Name: name, Email: email, Phone: phone, OrderNumber: order}
		if d.Validate() != nil {
			LatestDetails([]store.Message{{Role: store.RoleSystem, Text: detailsPrefix + name + email}})
			return
		}
		got := LatestDetails([]store.Message{{Role: store.RoleSystem, Text: d.Text()}})
		if got == nil || *got != d {
			t.Fatalf("round trip: %+v -> %q -> %+v", d, d.Text(), got)
		}
	})
}
