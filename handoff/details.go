package handoff

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"

	"switchboard/store"
)

// CustomerDetails are what a customer told us about themselves before a
// handoff (the web widget's form), so the agent does not have to ask. They
// are stored as a system message of the conversation (Text), so they stay
// in the transcript, and read back from it (ParseDetails) into the packet.
type CustomerDetails struct {
	Name        string `json:"name,omitempty"`
	Email       string `json:"email,omitempty"`
	Phone       string `json:"phone,omitempty"`
	OrderNumber string `json:"order_number,omitempty"`
}

const detailsPrefix = "Customer details: "

// detailFields are the fields in the order Text writes them, with their
// labels and the longest value Validate accepts.
var detailFields = []struct {
	label string
	get   func(*CustomerDetails) *string
	max   int
}{
	{"Name", func(d *CustomerDetails) *string { return &d.Name }, 200},
	{"Email", func(d *CustomerDetails) *string { return &d.Email }, 200},
	{"Phone", func(d *CustomerDetails) *string { return &d.Phone }, 50},
	{"Order number", func(d *CustomerDetails) *string { return &d.OrderNumber }, 50},
}

// Validate trims every field and checks that the details can be stored and
// read back: at least one is given, none holds a line break or a semicolon
// (Text's separators) or is too long, and an email is an address. The error
// is meant for the customer.
func (d *CustomerDetails) Validate() error {
	given := false
	for _, f := range detailFields {
		v := strings.TrimSpace(*f.get(d))
		if strings.ContainsAny(v, "\n\r;") {
			return fmt.Errorf("%s holds a line break or semicolon", strings.ToLower(f.label))
		}
		if strings.ContainsRune(v, 0) {
			return fmt.Errorf("%s holds a NUL character", strings.ToLower(f.label))
		}
		if len(v) > f.max {
			return fmt.Errorf("%s is longer than %d characters", strings.ToLower(f.label), f.max)
		}
		*f.get(d) = v
		given = given || v != ""
	}
	if !given {
		return errors.New("give at least one detail")
	}
	if d.Email != "" {
		if _, err := mail.ParseAddress(d.Email); err != nil {
			return errors.New("email is not an address")
		}
	}
	return nil
}

// Text is the system message that stores the details in the transcript:
// "Customer details: Name: Ada; Email: ada@example.com", empty fields left
// out.
func (d CustomerDetails) Text() string {
	var parts []string
	for _, f := range detailFields {
		if v := *f.get(&d); v != "" {
			parts = append(parts, f.label+": "+v)
		}
	}
	return detailsPrefix + strings.Join(parts, "; ")
}

// ParseDetails reads details back from a message text that Text wrote; ok
// is false when text is not a details message. Details that passed Validate
// come back unchanged.
func ParseDetails(text string) (d CustomerDetails, ok bool) {
	rest, ok := strings.CutPrefix(text, detailsPrefix)
	if !ok {
		return CustomerDetails{}, false
	}
	for _, part := range strings.Split(rest, "; ") {
		label, v, _ := strings.Cut(part, ": ")
		for _, f := range detailFields {
			if f.label == label {
				*f.get(&d) = v
			}
		}
	}
	return d, true
}

// LatestDetails reads the newest details system message of a transcript;
// nil when the customer gave none.
func LatestDetails(ms []store.Message) *CustomerDetails {
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].Role != store.RoleSystem {
			continue
		}
		if d, ok := ParseDetails(ms[i].Text); ok {
			return &d
		}
	}
	return nil
}

// masked is d with every field passed through m.
func (d CustomerDetails) masked(m *Masker) CustomerDetails {
	for _, f := range detailFields {
		*f.get(&d) = m.Mask(*f.get(&d))
	}
	return d
}
