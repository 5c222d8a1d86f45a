package cluster

import (
	"context"
	"fmt"
	"net"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/kiroku-sfu/kiroku/cluster"
	"github.com/kiroku-sfu/kiroku/cluster/natstest"
	"github.com/kiroku-sfu/kiroku/sfu"
	"github.com/kiroku-sfu/kiroku/signaling"
)

// placement adapts a Cluster to signaling.Placement, as node does.
type placement struct{ c *cluster.Cluster }

func (p placement) Place(ctx context.Context, req signaling.PlaceRequest) (string, error) {
	return p.c.Place(ctx, cluster.PlaceRequest{ChannelID: req.ChannelID, Redirected: req.Redirected, NoNewChannel: req.NoNewChannel})
}

// local tells the cluster which channels live on the benchmark's SFU.
type local struct{ core *sfu.SFU }

func (l local) Channels() []string {
	var out []string
	for _, s := range l.core.Sessions() {
		out = append(out, s.ChannelID)
	}
	return out
}

func (l local) Status() cluster.Status {
	return cluster.Status{Mode: string(l.core.Mode()), Connections: len(l.core.Connections())}
}

func freeUDP(b *testing.B) uint16 {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	return uint16(c.LocalAddr().(*net.UDPAddr).Port)
}

// server is signaling plus an SFU on loopback, with a Placement from
// place (nil: no cluster); it returns the signaling URL.
func server(b *testing.B, place func(*sfu.SFU) signaling.Placement) string {
	sc := sfu.DefaultConfig()
	sc.UDPPort, sc.ICEAddress, sc.ICELoopback = freeUDP(b), "127.0.0.1", true
	core, err := sfu.New(sc)
	if err != nil {
		b.Fatal(err)
	}
	cfg := signaling.DefaultConfig()
	if place != nil {
		cfg.Placement = place(core)
	}
	sig, err := signaling.New(cfg, core)
	if err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(sig.Handler())
	b.Cleanup(func() {
		hs.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = sig.Shutdown(ctx)
		_ = core.Close()
	})
	return "ws" + strings.TrimPrefix(hs.URL, "http") + signaling.Path
}

// connectOnce opens a WebSocket, sends connect for a new channel and
// returns the time from open to the offer.
func connectOnce(b *testing.B, url, channel string) time.Duration {
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer ws.Close()
	start := time.Now()
	msg := fmt.Sprintf(`{"type":"connect","role":"sendrecv","channel_id":%q,"metadata":null,"sora_client":"bench","audio":true,"video":true}`, channel)
	if err := ws.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
		b.Fatal(err)
	}
	for {
		var m struct {
			Type string `json:"type"`
		}
		if err := ws.ReadJSON(&m); err != nil {
			b.Fatalf("waiting for the offer: %v", err)
		}
		if m.Type == "offer" {
			return time.Since(start)
		}
	}
}

func percentile(d []time.Duration, p float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[int(float64(len(s)-1)*p)]
}

// BenchmarkConnectLatency connects to a new channel b.N times on each of
// two nodes in turn, one without a cluster and one placing channels
// through three local NATS servers, and reports both p50 and p99, their
// p99 difference and the NATS operations per clustered connect.
func BenchmarkConnectLatency(b *testing.B) {
	nats := natstest.StartCluster(b, 3)
	cfg := cluster.DefaultConfig()
	cfg.Enabled, cfg.NATSURLs, cfg.NodeName, cfg.Replicas = true, []string{natstest.URLs(nats)}, "bench", 3
	cfg.ExternalSignalingURL = "ws://127.0.0.1/signaling"
	var c *cluster.Cluster
	on := server(b, func(core *sfu.SFU) signaling.Placement {
		var err error
		if c, err = cluster.New(cfg, cluster.Deps{Local: local{core: core}}); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = c.Close(context.Background()) })
		return placement{c: c}
	})
	off := server(b, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.WaitReady(ctx); err != nil {
		b.Fatal(err)
	}
	connectOnce(b, on, "warm-on")
	connectOnce(b, off, "warm-off")
	kv0, req0 := c.Ops()
	var onT, offT []time.Duration
	b.ResetTimer()
	for i := range b.N {
		offT = append(offT, connectOnce(b, off, fmt.Sprintf("off-%d", i)))
		onT = append(onT, connectOnce(b, on, fmt.Sprintf("on-%d", i)))
	}
	b.StopTimer()
	kv, req := c.Ops()
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(percentile(offT, 0.5)), "off-p50-ms")
	b.ReportMetric(ms(percentile(offT, 0.99)), "off-p99-ms")
	b.ReportMetric(ms(percentile(onT, 0.5)), "on-p50-ms")
	b.ReportMetric(ms(percentile(onT, 0.99)), "on-p99-ms")
	b.ReportMetric(ms(percentile(onT, 0.99)-percentile(offT, 0.99)), "p99-diff-ms")
	// The refresh loop's heartbeats and renewals run meanwhile; they are
	// included, so this bounds the per-connect cost from above.
	b.ReportMetric(float64(kv-kv0)/float64(b.N), "kv-ops/connect")
	b.ReportMetric(float64(req-req0)/float64(b.N), "requests/connect")
}
