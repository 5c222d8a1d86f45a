// Package cluster joins kiroku nodes into one cluster over NATS with
// JetStream (docs/cluster.md).
//
// Three things live in NATS:
//
//   - channel claims: a JetStream key-value bucket ("kiroku_channels")
//     whose key is a channel and whose value names the node that serves
//     it. The first connect of a channel creates the key (an atomic
//     create-if-absent); the holder refreshes it while the channel has a
//     session there and deletes it when the session is gone. The bucket's
//     TTL (cluster_channel_claim_ttl) lets a dead node's claims expire.
//   - the node registry: a bucket ("kiroku_nodes") where every node puts
//     its name, signaling URL, mode, connection count and version at a
//     third of the TTL; entries of dead nodes expire.
//   - API calls: each node answers requests on "kiroku.api.<node key>",
//     so a channel-scoped HTTP API call made on any node is answered by
//     the holder, and node-wide lists are gathered from every node.
//
// When NATS cannot be reached the connection keeps retrying; sessions in
// progress go on, and Place refuses new channels with ErrUnavailable
// (never a blind claim). Claims of live local channels are made again
// when NATS is back.
//
// Packages signaling and api know a Cluster only through small
// interfaces of their own; package node adapts one to the other.
package cluster
