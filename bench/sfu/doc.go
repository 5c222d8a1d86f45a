// Package sfubench measures kiroku's forwarding cost and delay with the
// load generator against the real cmd/sfu program, next to a floor
// measured in the same run: the cost of SRTP-encrypting and sending one
// packet through the kernel on the same path.
//
// Everything runs inside a private network namespace (see
// test/browser/netns.sh): the SFU announces 198.18.0.1, the load
// generator gathers on 198.18.0.2, signaling uses 127.0.0.1, and no packet
// can reach another address. The tests and benchmarks need root, unshare
// and ip; TestMain re-runs the test binary inside the namespace.
package sfubench
