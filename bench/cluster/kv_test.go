package cluster

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/kiroku-sfu/kiroku/cluster/natstest"
)

// BenchmarkClaimRenewals measures the rate at which three local NATS
// servers (replicas 3, file storage) take claim renewals: b.N revision-
// checked updates of 1 000 keys by 64 writers at once, as the refresh
// loops of many nodes send them. docs/cluster.md's capacity model uses
// the figure.
func BenchmarkClaimRenewals(b *testing.B) {
	servers := natstest.StartCluster(b, 3)
	nc, err := nats.Connect(natstest.URLs(servers))
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "bench", History: 1, TTL: time.Minute,
		Storage: jetstream.FileStorage, Replicas: 3})
	if err != nil {
		b.Fatal(err)
	}
	const keys = 1000
	revs := make([]atomic.Uint64, keys)
	value := []byte(`{"node_name":"node-042","external_signaling_url":"wss://node-042.example.com/signaling"}`)
	for i := range keys {
		rev, err := kv.Create(ctx, fmt.Sprintf("k%d", i), value)
		if err != nil {
			b.Fatal(err)
		}
		revs[i].Store(rev)
	}
	var next atomic.Int64
	b.SetParallelism(32) // 64 writers on 2 CPUs
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := int(next.Add(1)) % keys
			// Writers may share a key: a lost race is a revision
			// mismatch, as a stale renewal would be; it still costs
			// the servers a round.
			rev, err := kv.Update(ctx, fmt.Sprintf("k%d", i), value, revs[i].Load())
			if err == nil {
				revs[i].Store(rev)
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "updates/s")
}
