// Package srtpout sends a PeerConnection's outgoing RTP itself: SRTP
// encryption with the keys pion's DTLS handshake agreed, then one send on
// the UDP socket pion's ICE mux chose, in place of pion/webrtc's
// per-packet write path, which costs about as much again as the
// encryption for every packet and every viewer. Everything else (ICE,
// DTLS, RTCP, receiving) stays pion's.
package srtpout
