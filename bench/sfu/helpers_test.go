package sfubench

import (
	"context"
	"net"
	"os"
	"testing"
	"time"

	"github.com/kiroku-sfu/kiroku/loadgen"
)

// startTestSFU runs cmd/sfu for the rest of tb, with extra sora.conf
// lines.
func startTestSFU(tb testing.TB, extra string) *sfuProcess {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if err := ln.Close(); err != nil {
		tb.Fatal(err)
	}
	p, err := startSFU(sfuBinary, tb.TempDir(), port, extra, os.Stderr)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := p.Close(); err != nil {
			tb.Error(err)
		}
	})
	return p
}

// startLoad connects a load and waits until every flow is running.
func startLoad(tb testing.TB, cfg loadgen.Config) *loadgen.Load {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cfg.ConnectTimeout)
	defer cancel()
	l, err := loadgen.Start(ctx, cfg)
	if err != nil {
		tb.Fatalf("start load: %v", err)
	}
	if err := l.WaitFlowing(ctx); err != nil {
		tb.Fatalf("%v (close: %v)", err, l.Close())
	}
	return l
}

// loadConfig is the load generator's configuration against p.
func loadConfig(p *sfuProcess, channel string, publishers, subscribers, rate int) loadgen.Config {
	cfg := loadgen.DefaultConfig()
	cfg.URL, cfg.Channel, cfg.LocalAddress = p.URL, channel, clientAddress
	cfg.Publishers, cfg.Subscribers, cfg.Rate = publishers, subscribers, rate
	cfg.ConnectTimeout = 30 * time.Second
	return cfg
}
