// Package hostmux is the SFU's shared media port: one UDP socket per
// usable local address (IPv4, IPv6 or both) on one port, each carrying
// every ICE connection whose host candidate names it, behind pion's
// ice.UDPMux interface.
//
// Unlike pion's fixed multi-socket mux it keeps looking for addresses
// while it runs. An address that cannot be bound yet, as an IPv6 address
// is while duplicate address detection has it tentative at boot, does not
// stop the process: it is skipped, reported once, and bound by a later
// scan, after which new connections announce it. Link-local addresses
// are never used: a browser cannot reach them without a zone, and RFC 8445
// keeps them out of candidates.
package hostmux
