// Package sfu forwards WebRTC media between connections on top of
// pion/webrtc v4.
//
// The model follows Sora's: a channel (named by the client) holds a session
// while at least one connection is in it; a connection has a role
// (sendrecv, sendonly, recvonly) and one PeerConnection. Every track a
// publisher sends is forwarded to every receiving connection of the same
// channel whose bundle_id differs (multistream), with the msid stream id
// set to the publisher's connection_id.
//
// The server is always the SDP offerer. A connection's first offer is
// returned by [Connection.Offer]; later changes (a publisher joined or left)
// are delivered as re-offers through the [Peer] the signaling layer passes
// to [SFU.Join], at most one outstanding per connection, later changes
// coalesced until the re-answer arrives.
//
// Video is negotiated with NACK, RTX, PLI, FIR and transport-cc; audio is
// Opus. A channel mixes video codecs (codecs.go): a connection sends its
// own codec_type, and every m-line forwarding a publisher's video offers
// that publisher's codec. A receiver that cannot decode it (its connect's
// capability sdp lacks it, or its answer refuses it) does not get that
// stream, and keeps every other (refusal.go). Messaging channels ("#label") are server-created
// DataChannels relayed within the channel; with DataChannel signaling the
// system channels (SystemLabels) are created too and handed to a
// SystemPeer.
//
// Simulcast: a publisher that asks for it sends its video in three layers
// (rids r0, r1, r2; simulcast.go), each read as a track of its own; every
// viewer gets one track per such publisher (layeredTrack), fed from the
// layer it asked for by a layerSelector, which moves between layers at
// keyframes with sequence numbers, timestamps and the VP8/VP9 picture
// numbers (picture ID, TL0PICIDX, KEYIDX; picid.go) running on, so that
// the viewer's decoder goes on without asking for a keyframe. Each move
// is a clean cut: it waits for the old layer's frame in progress to end
// (layerpending.go) and places the new layer's timestamps by the layers'
// sender reports (layerclock.go). Rewritten payloads are per-receiver
// copies; the shared payload, also kept for NACKs, is never modified, and
// retransmissions carry the values first sent. The recorder gets the
// highest layer the same way, falling back while it pauses; sinks see the
// layer in TrackInfo.RID.
//
// Spotlight (spotlight*.go): in a channel created with spotlight, the
// focus picks the publishers every viewer gets at its focus layer (its
// unfocus layer, or a pause for "none", for the others): the
// spotlight number loudest speakers by the RFC 6464 audio level of their
// audio packets (a detector read in each audio read loop, deciding at
// most every 100 ms), or those the API focuses. A focus change retargets
// the viewers' layer selectors; video without layers is paused for all
// viewers while unfocused; audio and the recorder are never affected.
//
// On the shared UDP port, each connection's outgoing RTP is encrypted and
// sent by package srtpout with the keys of pion's DTLS handshake, instead
// of through pion's per-packet write path ([Config.DirectSRTP]). Incoming
// RTP of a publisher's tracks is decrypted by srtpout on the socket's
// reader goroutine and handed, through pion's receive interceptors, to
// the track's handler once the track exists ([Config.DirectSRTPReceive]);
// the track's pion read loop keeps running for what pion had buffered
// and for connections where this side is the DTLS client, and a lock per
// track keeps the two from overlapping.
//
// A recorder is just another subscriber: [SFU.Subscribe] attaches a [Sink]
// to a publisher connection and delivers its RTP packets and RTCP sender
// reports through a bounded queue (or, for a [QueueingSink], at once); the
// returned [Subscription] can ask for
// keyframes. Keyframe requests from viewers and sinks are merged into at
// most one PLI per track per [Config.PLIInterval].
//
// Concurrency: each published track has one goroutine reading its RTP and
// one reading its RTCP; each forwarded track has one goroutine reading the
// viewer's RTCP; each connection has one renegotiation goroutine; each
// subscription has one delivery goroutine, unless its sink is a
// [QueueingSink] (archive's recorder), which the tracks' readers call
// directly. All are owned by the connection or subscription that started
// them and are waited for by its Close.
package sfu
