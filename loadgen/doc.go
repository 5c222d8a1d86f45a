// Package loadgen is a load generator for Sora-protocol SFUs: a minimal
// signaling client written from the protocol (WebSocket `connect`, `offer`,
// `answer`, trickled `candidate`, `re-offer`/`re-answer`, `ping`/`pong`,
// `notify`, `disconnect`) on a pion PeerConnection, publishers that send
// synthetic VP8 RTP at a fixed packet rate, and subscribers that measure
// one-way forwarding delay.
//
// Every packet a publisher sends carries a [Stamp] at the start of its
// payload: the publisher's index, a sequence number and the send time.
// Payloads are opaque to an SFU, which forwards them unchanged (header
// extensions are renegotiated per PeerConnection and may be dropped), so a
// subscriber in the same process reads the stamp and records the delay on
// the same clock.
//
// It deliberately imports none of kiroku's packages: it is a client of the
// wire protocol, so it measures what a real client would see.
//
// Concurrency: a [Client] owns a WebSocket reader goroutine and, for a
// publisher, a pacing goroutine; [Client.Close] stops and waits for them and
// for every track reader pion started on its behalf. A [Load] owns its
// clients the same way. Counters are atomic and can be read at any time.
package loadgen
