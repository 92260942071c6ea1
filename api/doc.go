// Package api owns what the HTTP API looks like on the wire
// (api/openapi.yaml): the JSON forms of messages, handoffs and stream
// events, JSON errors, strict bounded request decoding, and the WebSocket
// streams that carry the conversation bus to browsers. The web chat (the
// visitor's side) and the desk (the agents' side) both serve through it,
// so neither copies the other.
package api
