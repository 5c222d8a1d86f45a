// Package cluster benchmarks what cluster = true adds to a connect: the
// time from WebSocket open to the offer with the channel placed through
// three local NATS servers (JetStream, replicas 3) against a node without
// a cluster in the same run, and the key-value operations and requests
// each connect costs (BenchmarkConnectLatency). It has benchmarks only
// (`make bench`); docs/cluster.md records the figures.
package cluster
