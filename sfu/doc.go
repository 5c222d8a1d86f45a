// Package sfu forwards WebRTC media between connections: channels, sessions,
// connections and their tracks on top of pion/webrtc. It exposes a small
// sink interface through which a recorder subscribes to a publisher's RTP
// and sender reports, and accepts keyframe requests from any subscriber.
package sfu
