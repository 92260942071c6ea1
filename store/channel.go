package store

// Channel names the channel a conversation runs on. Every package that
// speaks of channels (config keys, metrics labels, handoff levels per
// channel) uses these names; the store refuses any other.
type Channel string

// The channels.
const (
	ChannelWeb    Channel = "web"    // the web chat widget
	ChannelVoice  Channel = "voice"  // SIP calls
	ChannelWebRTC Channel = "webrtc" // calls from a browser
	ChannelSMS    Channel = "sms"
	ChannelEmail  Channel = "email"
	ChannelSlack  Channel = "slack"
)

// Channels returns every channel, in the order config errors list them.
func Channels() []Channel {
	return []Channel{ChannelWeb, ChannelVoice, ChannelWebRTC, ChannelSMS, ChannelEmail, ChannelSlack}
}

// Valid reports whether c is one of the known channels.
func (c Channel) Valid() bool {
	switch c {
	case ChannelWeb, ChannelVoice, ChannelWebRTC, ChannelSMS, ChannelEmail, ChannelSlack:
		return true
	}
	return false
}
