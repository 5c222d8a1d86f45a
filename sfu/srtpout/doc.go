// Package srtpout takes a PeerConnection's RTP off pion's per-packet
// paths, both ways, on the shared UDP sockets, with the SRTP keys pion's
// DTLS handshake agreed.
//
// Sending (Path): SRTP encryption, then one send on the UDP socket pion's
// ICE mux chose, in place of pion/webrtc's per-packet write path, which
// costs about as much again as the encryption for every packet and every
// viewer.
//
// Receiving (Receiver, Demux): a tap on the socket's reader decrypts the
// packets of the streams it took over and hands them to their handler
// through pion's receive-side interceptors, on the reader's goroutine, in
// place of about five goroutine hand-offs per packet (UDP mux, ICE, pion's
// mux, SRTP session, track buffer).
//
// Everything else (ICE, DTLS, RTCP, packets of streams not taken over)
// stays pion's.
package srtpout
