package desk

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"switchboard/api"
	"switchboard/config"
)

type countJSON struct {
	Text  string `json:"text,omitempty"`
	Date  string `json:"date,omitempty"`
	Count int    `json:"count"`
}

// insights counts handoffs by trigger, reason, topic, channel and day, and
// the questions the AI could not answer, so an admin sees what knowledge is
// missing.
func (d *Desk) insights(w http.ResponseWriter, r *http.Request, _ Agent) error {
	days := 7
	if v := r.URL.Query().Get("days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 90 {
			return api.Errorf(http.StatusBadRequest, "days must be a whole number from 1 to 90")
		}
		days = n
	}
	now := d.o.Now().UTC()
	since := now.AddDate(0, 0, -days+1).Truncate(24 * time.Hour)
	hs, err := d.o.Store.HandoffsSince(r.Context(), since, 0)
	if err != nil {
		return err
	}
	by := map[string]map[string]int{"trigger": {}, "reason": {}, "topic": {}, "channel": {}}
	perDay := map[string]int{}
	for _, h := range hs {
		by["trigger"][h.Trigger]++
		by["reason"][h.Reason]++
		if h.Topic != "" {
			by["topic"][h.Topic]++
		}
		by["channel"][string(h.Channel)]++
		perDay[h.CreatedAt.UTC().Format(time.DateOnly)]++
	}
	var daily []countJSON
	for d := since; !d.After(now); d = d.AddDate(0, 0, 1) {
		key := d.Format(time.DateOnly)
		daily = append(daily, countJSON{Date: key, Count: perDay[key]})
	}
	unanswered, err := d.unanswered(r, since)
	if err != nil {
		return err
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{
		"days": days, "total": len(hs), "by_trigger": by["trigger"], "by_reason": by["reason"],
		"by_topic": by["topic"], "by_channel": by["channel"], "daily": daily, "unanswered": unanswered,
	})
	return nil
}

// unanswered groups the questions the AI could not answer by their
// normalised text, most asked first.
func (d *Desk) unanswered(r *http.Request, since time.Time) ([]countJSON, error) {
	ms, err := d.o.Store.Unanswered(r.Context(), since, 0)
	if err != nil {
		return nil, err
	}
	counts := map[string]*countJSON{}
	for _, m := range ms {
		key := strings.Join(strings.Fields(strings.ToLower(strings.Trim(m.Text, " ?!."))), " ")
		if c, ok := counts[key]; ok {
			c.Count++
		} else {
			counts[key] = &countJSON{Text: m.Text, Count: 1}
		}
	}
	out := make([]countJSON, 0, len(counts))
	for _, c := range counts {
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Text < out[j].Text
	})
	return out[:min(len(out), 20)], nil
}

// settings is the effective handoff configuration, read-only.
func (d *Desk) settings(w http.ResponseWriter, _ *http.Request, _ Agent) error {
	live := d.o.Live()
	h := live.Handoff
	api.WriteJSON(w, http.StatusOK, map[string]any{
		"file": live.File, "level": h.Level, "advanced": h.Advanced, "channels": h.Channels,
		"restricted_topics": h.RestrictedTopics, "fallback": h.Fallback, "targets": targetsJSON(h.Targets),
		"business_hours": h.BusinessHours, "collect": h.Collect,
	})
	return nil
}

// targetsJSON shows ring timeouts as people write them ("30s").
func targetsJSON(ts map[string]config.Target) map[string]any {
	out := map[string]any{}
	for name, t := range ts {
		out[name] = map[string]any{"kind": t.Kind, "uri": t.URI, "method": t.Method, "ring_timeout": t.RingTimeout.String(), "headers": t.Headers}
	}
	return out
}
