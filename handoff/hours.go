package handoff

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"switchboard/config"
)

// businessHours says when humans are there to take a handoff.
type businessHours struct {
	always      bool
	loc         *time.Location
	days        []time.Weekday
	open, close int // minutes after midnight
}

func newBusinessHours(b config.BusinessHours) (businessHours, error) {
	if b.Always {
		return businessHours{always: true}, nil
	}
	loc, err := time.LoadLocation(b.Timezone)
	if err != nil {
		return businessHours{}, fmt.Errorf("handoff: business hours: %w", err)
	}
	open, err := minutes(b.Open)
	if err != nil {
		return businessHours{}, err
	}
	closing, err := minutes(b.Close)
	if err != nil {
		return businessHours{}, err
	}
	h := businessHours{loc: loc, open: open, close: closing}
	names := []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}
	for _, d := range b.Days {
		h.days = append(h.days, time.Weekday(slices.Index(names, strings.ToLower(d))))
	}
	return h, nil
}

func minutes(hhmm string) (int, error) {
	t, err := time.Parse("15:04", hhmm)
	if err != nil {
		return 0, fmt.Errorf("handoff: business hours: %w", err)
	}
	return t.Hour()*60 + t.Minute(), nil
}

func (h businessHours) openAt(t time.Time) bool {
	if h.always {
		return true
	}
	t = t.In(h.loc)
	m := t.Hour()*60 + t.Minute()
	return slices.Contains(h.days, t.Weekday()) && m >= h.open && m < h.close
}
