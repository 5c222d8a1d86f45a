// Package loadgen is a load generator for Sora-protocol SFUs: a minimal
// signaling client written from the protocol (WebSocket `connect`, `offer`,
// `answer`, trickled `candidate`, `re-offer`/`re-answer`, `ping`/`pong`,
// `notify`, `disconnect`) on a pion PeerConnection, publishers that send
// synthetic video RTP at a fixed packet rate in any of the five video
// codecs (each publisher its own, [Config.VideoCodecs]), plain or as
// simulcast sendrecv clients with three layers ([Config.Simulcast]), and
// subscribers that measure one-way forwarding delay.
//
// Every packet a publisher sends carries a [Stamp] at the start of its
// payload: the publisher's index, a sequence number and the send time.
// Payloads are opaque to an SFU, which forwards them unchanged (header
// extensions are renegotiated per PeerConnection and may be dropped), so a
// subscriber in the same process reads the stamp and records the delay on
// the same clock. The stamp starts with a VP8 payload descriptor and an
// interframe's first byte whatever the codec: an SFU forwarding one layer
// per publisher reads no payload. A simulcast layer's first packet, and
// the next one after the server asks for a keyframe (PLI, FIR), start
// instead with a VP8 keyframe's descriptor and uncompressed header before
// the stamp ([PutKeyframeStamp]): that is all an SFU reads to find where a
// receiver may be moved onto a layer, so it moves receivers as it would a
// browser's, and only there. Simulcast loads are VP8 only, since that
// keyframe header is VP8's. A simulcast publisher tags every packet with
// the mid and rid header extensions the server's offer gives ids to, as
// browsers do.
//
// A publisher may also send real media instead of stamps: a [Clip] (VP8
// IVF and Opus Ogg files, e.g. made with ffmpeg) played in a loop into a
// [Client] or any other [ClipWriter], answering the server's keyframe
// requests ([Client.TakeVideoKeyframeRequest]); such packets carry no
// stamps, so they measure what a server receives, not delays.
//
// It deliberately imports none of kiroku's packages: it is a client of the
// wire protocol, so it measures what a real client would see.
//
// Concurrency: a [Client] owns a WebSocket reader goroutine and, for a
// publisher, a pacing goroutine; [Client.Close] stops and waits for them and
// for every track reader pion started on its behalf. A [Load] owns its
// clients the same way. Counters are atomic and can be read at any time.
package loadgen
