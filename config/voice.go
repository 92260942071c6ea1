package config

import (
	"fmt"
	"net/netip"
	"os"
	"regexp"
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
	validateOutbound(c, v)
	validateTrunks(c, v.Trunks)
}

// validateOutbound checks what the calls the gateway places go out with:
// the proxy, the credentials for its challenges, and our identity.
func validateOutbound(c *checker, v VoiceChannel) {
	const k = "channels.voice."
	if v.Outbound != "" && !strings.HasPrefix(v.Outbound, "sip:") && !strings.HasPrefix(v.Outbound, "sips:") {
		c.addf(k+"outbound", "%q must be a sip: or sips: URI", v.Outbound)
	}
	env, file := v.OutboundPasswordEnv, v.OutboundPasswordFile
	switch {
	case env != "" && file != "":
		c.addf(k+"outbound_password_file", "give outbound_password_env or outbound_password_file, not both")
	case v.OutboundUsername != "" && env == "" && file == "":
		c.addf(k+"outbound_username", "needs outbound_password_env or outbound_password_file; the password never goes in this file")
	case v.OutboundUsername == "" && env != "":
		c.addf(k+"outbound_password_env", "needs outbound_username")
	case v.OutboundUsername == "" && file != "":
		c.addf(k+"outbound_password_file", "needs outbound_username")
	}
	if env != "" && !envName.MatchString(env) {
		c.addf(k+"outbound_password_env", "names an environment variable; put the password itself in that variable, never in the file")
	}
	if strings.ContainsAny(v.OutboundUsername, "\"\\") || hasControl(v.OutboundUsername) {
		c.addf(k+"outbound_username", "%q may not hold quotes, backslashes or control characters", v.OutboundUsername)
	}
	if v.Identity != "" && !sipIdentity.MatchString(v.Identity) {
		c.addf(k+"identity", "%q is not a SIP URI like sip:+15550100@trunk.example.com", v.Identity)
	}
}

// sipIdentity is a sip: or sips: URI with an optional user (RFC 3261's
// characters) and a host, with nothing a From header could not hold.
var sipIdentity = regexp.MustCompile(`^sips?:([A-Za-z0-9\-_.!~*'()%&=+$,;?/]{1,64}@)?[A-Za-z0-9.\-\[\]:]+(;[^\s<>"]*)?$`)

func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

// OutboundPassword reads the password for outbound digest challenges from
// the environment variable or the file the config names, "" when it names
// neither. A named one that is missing or empty is an error, so a
// forgotten secret shows at start rather than as failed transfers.
func (c *Config) OutboundPassword() (string, error) {
	v := c.Channels.Voice
	switch {
	case v.OutboundPasswordEnv != "":
		p := os.Getenv(v.OutboundPasswordEnv)
		if p == "" {
			return "", fmt.Errorf("channels.voice.outbound_password_env: the environment variable %s is not set", v.OutboundPasswordEnv)
		}
		return p, nil
	case v.OutboundPasswordFile != "":
		b, err := os.ReadFile(c.ResolvePath(v.OutboundPasswordFile))
		if err != nil {
			return "", fmt.Errorf("channels.voice.outbound_password_file: %w", err)
		}
		p := strings.TrimRight(string(b), "\r\n")
		if p == "" {
			return "", fmt.Errorf("channels.voice.outbound_password_file: %s is empty", v.OutboundPasswordFile)
		}
		return p, nil
	}
	return "", nil
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
