// Package memudp lets UDP sockets of one process hand datagrams to each
// other in memory.
//
// kiroku's TURN server relays only to the SFU, and both run in one
// process: without this, every relayed packet leaves through one socket
// and comes back through another, two system calls and a trip through the
// kernel's UDP stack that carry nothing anyone outside sees. A Conn is a
// UDP socket attached to a Switch; a datagram it writes to the local
// address of another Conn on the same Switch is queued on that Conn
// instead of being sent, and its reader returns it as if it had come from
// the network, from the writer's local address. Everything else goes
// through the socket as usual, so a Conn is a drop-in net.PacketConn.
//
// A Conn reads and writes its socket with system calls that never block
// and do not wake Go's monitor thread (sockio_linux.go). A Conn attached
// with AttachBatched takes its socket out of Go's poller instead and
// reads it in batches; while traffic is heavy it lets datagrams gather
// for an interval before it takes them all, so one thread wake-up serves
// many of them (batch.go, rawsock_linux.go).
package memudp
