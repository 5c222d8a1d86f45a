// Package signaling speaks Sora's WebSocket signaling protocol with the
// Sora SDKs and drives package sfu accordingly.
//
// One WebSocket at /signaling is one connection: the client sends
// "connect", the server authenticates it (an [Authenticator], allow-all by
// default), joins it into the SFU and replies "offer" with every server ICE
// candidate inside the SDP; the client sends "answer" and trickles
// "candidate" messages (both the browser and the native SDKs' shapes).
// After the answer every member of the channel gets a "connection.created"
// notify; the joiner's own carries the others' metadata in "data". Later
// renegotiations are "re-offer"/"re-answer", at most one outstanding per
// connection. The server sends "ping" and expects "pong"; "disconnect"
// ends the connection. With data_channel_signaling the connection switches
// to DataChannels once they are open (dcsignaling.go), and messaging
// channels ("#label") are relayed by the SFU.
//
// The admission mode is checked before the authenticator is asked. A new
// session's first connections wait before their offer at a SessionGate
// until the session is ready (the reply to session.created applied), for
// a bounded time. The EventSink hears connection.created, .updated (15 s
// after a connection, then every minute), .destroyed and .failed; the
// connections that left a live session stay listed
// (Server.DepartedConnections). docs/webhooks.md has the details.
//
// # Close codes
//
// Normal server-side closes use 1000 with Sora's reasons:
//
//	1000 TYPE-DISCONNECT     the client sent "disconnect"
//	1000 DISCONNECTED-API    an API call (DisconnectConnection, …) ended it
//	1000 SHUTDOWN            the server is stopping
//	1000 LIFETIME-EXPIRED    the authenticator's connection lifetime ran out
//	1000 REDIRECT            a "redirect" was sent (cluster)
//
// A rejected or broken connection is closed with a 4xxx code and a reason
// (at most 123 bytes), so sora-js-sdk rejects connect() with both:
//
//	4001 MALFORMED-MESSAGE         not a JSON object with a string "type", or a binary frame
//	4002 UNEXPECTED-MESSAGE        wrong first message, second connect, answer before offer, …
//	4003 MESSAGE-TOO-LARGE         a message over Config.MaxMessageBytes (64 KiB by default)
//	4004 CONNECT-TIMEOUT           no connect within Config.ConnectTimeout
//	4005 PONG-TIMEOUT              nothing received for Config.PongTimeout after connecting
//	4006 ANSWER-TIMEOUT            no answer within Config.AnswerTimeout after the offer
//	4010 INVALID-ROLE              role is not sendrecv, sendonly or recvonly
//	4011 INVALID-CHANNEL-ID        channel_id empty, over 255 bytes, not UTF-8 or with control characters
//	4012 INVALID-PARAMETER         another field is invalid or unsupported (reason names it)
//	4020 <webhook reason>          the authenticator denied the connection
//	4021 AUTH-WEBHOOK-ERROR        the authenticator failed (a failing auth webhook denies)
//	4030 BLOCKED-NEW-CONNECTION    the mode blocks new connections
//	4031 BLOCKED-NEW-SESSION       the mode blocks new sessions and the channel has none
//	4040 INTERNAL-ERROR            the server could not build the offer or apply the answer
//	4041 TOO-SLOW                  the client did not read the server's messages
//	4050 CLUSTER-UNAVAILABLE       cluster = true and NATS cannot be reached: no new channel is claimed
//	4051 CLUSTER-CHANNEL-ELSEWHERE a redirected connect ("redirect": true) found its channel held by another node
//
// In a cluster (Config.Placement) a connect whose channel another node
// holds, or a new channel this node's mode refuses, gets
// {"type":"redirect","location":URL} before any offer and the WebSocket
// closes with 1000 REDIRECT; a redirected connect is never redirected
// again.
//
// docs/signaling.md describes the protocol subset in full.
package signaling
