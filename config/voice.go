package config

import (
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
	"time"
)

var (
	voiceCodecs = []string{"G722", "PCMU", "PCMA"}
	dtmfKeys    = []string{"", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "#"}
)

func validateVoice(c *checker, v VoiceChannel) {
	if !v.Enabled {
		return
	}
	const k = "channels.voice."
	c.required(k+"greeting", v.Greeting)
	if a, err := netip.ParseAddr(v.PublicAddress); err != nil || a.IsUnspecified() {
		c.addf(k+"public_address", "%q must be the IP address callers send media to (not 0.0.0.0)", v.PublicAddress)
	}
	validateTLS(c, v.TLS)
	r := v.RTPPorts
	if r.Min < 1024 || r.Max > 65534 || r.Min >= r.Max || r.Min%2 != 0 {
		c.addf(k+"rtp_ports", "min %d and max %d must be 1024..65534, min even and below max", r.Min, r.Max)
	}
	if v.MediaTimeout < 5*time.Second || v.MediaTimeout > 10*time.Minute {
		c.addf(k+"media_timeout", "%v must be between 5s and 10m", v.MediaTimeout)
	}
	if len(v.Codecs) == 0 {
		c.addf(k+"codecs", "name at least one of %s", strings.Join(voiceCodecs, ", "))
	}
	for i, name := range v.Codecs {
		c.oneOf(fmt.Sprintf("%scodecs[%d]", k, i), name, voiceCodecs)
	}
	c.oneOf(k+"handoff_digit", v.HandoffDigit, dtmfKeys)
	if v.EndOfSpeech < 100*time.Millisecond || v.EndOfSpeech > 5*time.Second {
		c.addf(k+"end_of_speech", "%v must be between 100ms and 5s", v.EndOfSpeech)
	}
	if v.RingBeforeAnswer < 0 || v.RingBeforeAnswer > 30*time.Second {
		c.addf(k+"ring_before_answer", "%v must be between 0s and 30s", v.RingBeforeAnswer)
	}
	if v.MaxCalls < 1 {
		c.addf(k+"max_calls", "must be at least 1")
	}
	validateVoiceLimits(c, v.Limits)
	if t := v.TCP; t.FirstMessageTimeout < 0 || t.IdleTimeout < 0 || t.MaxPerSource < 0 {
		c.addf(k+"tcp", "timeouts and max_per_source must be 0 (off) or more")
	} else if t.IdleTimeout > 0 && t.IdleTimeout < time.Minute {
		c.addf(k+"tcp.idle_timeout", "%v would cut calls whose signalling is quiet; 0 (off) or at least 1m", t.IdleTimeout)
	}
	if v.DrainTimeout < 0 || v.DrainTimeout > time.Hour {
		c.addf(k+"drain_timeout", "%v must be between 0s and 1h", v.DrainTimeout)
	}
	if v.ReferTimeout < time.Second || v.ReferTimeout > 5*time.Minute {
		c.addf(k+"refer_timeout", "%v must be between 1s and 5m", v.ReferTimeout)
	}
	if v.Outbound != "" && !strings.HasPrefix(v.Outbound, "sip:") && !strings.HasPrefix(v.Outbound, "sips:") {
		c.addf(k+"outbound", "%q must be a sip: or sips: URI", v.Outbound)
	}
	validateTrunks(c, v.Trunks)
}

func validateTLS(c *checker, t VoiceTLS) {
	if t == (VoiceTLS{}) {
		return
	}
	c.addr("channels.voice.tls.listen", t.Listen)
	c.required("channels.voice.tls.cert_file", t.CertFile)
	c.required("channels.voice.tls.key_file", t.KeyFile)
}

// validateTrunks insists that every trunk is restricted somehow: a trunk
// open to any address without credentials would let anyone place calls
// through the gateway's transfers (toll fraud).
func validateTrunks(c *checker, trunks []Trunk) {
	if len(trunks) == 0 {
		c.addf("channels.voice.trunks", "name at least one trunk: calls from anything else are refused")
	}
	for i, t := range trunks {
		key := fmt.Sprintf("channels.voice.trunks[%d]", i)
		c.required(key+".name", t.Name)
		for j, a := range t.Allow {
			if _, err := netip.ParsePrefix(a); err != nil {
				c.addf(fmt.Sprintf("%s.allow[%d]", key, j), "%q is not a CIDR like 203.0.113.0/24", a)
			}
		}
		if t.Username == "" && t.PasswordEnv == "" && len(t.Allow) == 0 {
			c.addf(key, "needs allowed addresses, credentials or both")
		}
		if (t.Username == "") != (t.PasswordEnv == "") {
			c.addf(key+".password_env", "username and password_env go together")
		}
		if t.PasswordEnv != "" && !envName.MatchString(t.PasswordEnv) {
			c.addf(key+".password_env", "%q is not an environment variable name", t.PasswordEnv)
		}
		if slices.Contains(t.Allow, "0.0.0.0/0") || slices.Contains(t.Allow, "::/0") {
			if t.Username == "" {
				c.addf(key+".allow", "allowing every address needs credentials too")
			}
		}
	}
}

// TrunkPassword reads a trunk's digest password from its environment
// variable; a missing one is an error, so a trunk is never left open by a
// forgotten secret.
func TrunkPassword(t Trunk) (string, error) {
	if t.PasswordEnv == "" {
		return "", nil
	}
	p, ok := os.LookupEnv(t.PasswordEnv)
	if !ok || p == "" {
		return "", fmt.Errorf("trunk %s: environment variable %s is not set", t.Name, t.PasswordEnv)
	}
	return p, nil
}

func validateVoiceLimits(c *checker, l VoiceLimits) {
	const k = "channels.voice.limits."
	for _, r := range []struct {
		key  string
		rate Rate
	}{{"invite", l.Invite}, {"register", l.Register}, {"options", l.Options}, {"other", l.Other}} {
		if r.rate.PerSecond < 0 || (r.rate.PerSecond > 0 && r.rate.Burst < 1) {
			c.addf(k+r.key, "per_second must be 0 (no limit) or above, with burst at least 1")
		}
	}
	if l.DropAfter < 0 {
		c.addf(k+"drop_after", "%d must be 0 or more refusals a second", l.DropAfter)
	}
}
