// Package relay is kiroku's built-in TURN server (RFC 8656), as Sora has
// one: every connection's offer names it in config.iceServers with
// credentials of its own, and a client that cannot reach the SFU's UDP
// port directly (or is told to relay only, as Sora's iOS SDK insists)
// sends its media through it.
//
// The relay only ever forwards to the SFU itself: a client may open
// permissions for the SFU's media address alone, so credentials handed to
// one connection cannot turn the server into an open relay. Credentials
// live as long as their connection: the signaling layer asks for them when
// it builds the offer and revokes them when the connection ends.
package relay
