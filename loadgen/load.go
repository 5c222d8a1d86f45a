package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
)

// dialConcurrency bounds the clients connecting at once.
const dialConcurrency = 8

// Load is a running set of publishers and subscribers in one channel.
type Load struct {
	cfg  Config
	subs []*subscriber
	pubs []*Client
	// pubRecv is what each publisher receives (sendrecv with Simulcast);
	// nil entries otherwise.
	pubRecv []*subscriber
	// sending is pubs once every publisher is connected, for the
	// subscribers' goroutines (packets are no happens-before edge).
	sending atomic.Pointer[[]*Client]
	cancel  context.CancelFunc
	wg      sync.WaitGroup // pacers

	sent       atomic.Uint64
	offered    atomic.Uint64
	received   atomic.Uint64
	spanned    atomic.Uint64
	duplicates atomic.Uint64
	unstamped  atomic.Uint64
	sendErrors atomic.Uint64
	// delayPair keeps the two histograms below describing the same
	// packets: a packet's two delays are recorded under its read lock and
	// both snapshots are taken under its write lock. Otherwise a packet
	// recorded between the two snapshot reads sits in one window and not
	// the other, which with few packets moves a p99.
	delayPair sync.RWMutex
	delays    Histogram // sent to the subscriber's socket
	appDelays Histogram // sent to read through the subscriber's stack

	closeOnce sync.Once
	closeErr  error
}

// subscriber is a receiving client and what it has heard from each
// publisher.
type subscriber struct {
	client *Client
	flows  []flow        // per publisher index and simulcast layer
	heard  []atomic.Bool // per publisher index
	nHeard atomic.Int64
	expect int // publishers it should hear (not itself)
}

func newSubscriber(publishers, expect int) *subscriber {
	return &subscriber{flows: make([]flow, publishers*simulcastLayers), heard: make([]atomic.Bool, publishers),
		expect: expect}
}

// Start connects the subscribers, then the publishers (each joining
// publisher reaches the subscribers by re-offer), and starts sending.
func Start(ctx context.Context, cfg Config) (*Load, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	l := &Load{cfg: cfg, subs: make([]*subscriber, cfg.Subscribers), pubs: make([]*Client, cfg.Publishers),
		pubRecv: make([]*subscriber, cfg.Publishers)}
	err := dialAll(ctx, cfg.Subscribers, func(ctx context.Context, i int) error {
		s := newSubscriber(cfg.Publishers, cfg.Publishers)
		c, err := Dial(ctx, l.clientConfig(RoleRecvonly, fmt.Sprintf("sub-%d", i), "", s))
		s.client, l.subs[i] = c, s
		return err
	})
	if err == nil {
		err = dialAll(ctx, cfg.Publishers, func(ctx context.Context, i int) error {
			role, label, codec := RoleSendonly, fmt.Sprintf("pub-%d", i), cfg.PublisherCodec(i)
			var s *subscriber
			if cfg.Simulcast {
				role, s = RoleSendrecv, newSubscriber(cfg.Publishers, cfg.Publishers-1)
				l.pubRecv[i] = s
			}
			var err error
			l.pubs[i], err = Dial(ctx, l.clientConfig(role, label, codec, s))
			return err
		})
	}
	if err != nil {
		return nil, errors.Join(err, l.Close())
	}
	l.sending.Store(&l.pubs)
	pctx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	for i, p := range l.pubs {
		l.wg.Go(func() { l.pace(pctx, uint32(i), p) })
	}
	return l, nil
}

// clientConfig is a client's configuration: codec is what it publishes
// (empty for a subscriber), s what it receives (nil: nothing).
func (l *Load) clientConfig(role, label, codec string, s *subscriber) ClientConfig {
	cc := ClientConfig{URL: l.cfg.URL, Channel: l.cfg.Channel, Role: role, Label: label, VideoCodec: codec,
		LocalAddress: l.cfg.LocalAddress, Logger: l.cfg.Logger, Now: l.cfg.Now, TURN: l.cfg.TURN}
	if l.cfg.Simulcast {
		cc.Simulcast, cc.SimulcastRID = true, simulcastRIDs[receivedLayer]
	}
	if s != nil {
		cc.OnPacket = func(p *rtp.Packet, read, socket time.Time) { l.onPacket(s, p, read, socket) }
	}
	if l.cfg.WHIP && role == RoleSendonly {
		cc.WHIP, cc.URL = true, WHIPEndpoint(l.cfg.URL, l.cfg.Channel)
	}
	return cc
}

// WHIPEndpoint is the WHIP URL of channel on the server whose signaling
// WebSocket is signalingURL (ws://HOST:PORT/signaling, wss likewise).
func WHIPEndpoint(signalingURL, channel string) string {
	base := strings.TrimSuffix(signalingURL, "/signaling")
	base = strings.Replace(strings.Replace(base, "wss://", "https://", 1), "ws://", "http://", 1)
	return base + "/whip/" + url.PathEscape(channel)
}

// dialAll runs dial for 0..n-1, a few at a time, each bounded by the
// connect timeout, and returns every error.
func dialAll(ctx context.Context, n int, dial func(context.Context, int) error) error {
	sem := make(chan struct{}, dialConcurrency)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			errs[i] = dial(ctx, i)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// onPacket records one forwarded packet at a subscriber: the delay of
// its first arrival from the publisher's socket to the subscriber's
// (falling back to the stamp and the read time when a socket did not note
// it), and from the stamp to after the subscriber's stack; a
// retransmitted copy is only counted.
func (l *Load) onPacket(s *subscriber, p *rtp.Packet, read, socket time.Time) {
	st, err := ParseStamp(p.Payload)
	if err != nil || int(st.Publisher) >= len(s.heard) || st.Layer >= simulcastLayers {
		l.unstamped.Add(1)
		return
	}
	isFirst, advanced := s.flows[int(st.Publisher)*simulcastLayers+int(st.Layer)].first(st.Seq)
	l.spanned.Add(advanced)
	if !isFirst {
		l.duplicates.Add(1)
		return
	}
	l.received.Add(1)
	// Socket to socket when both ends noted the packet: what the network
	// and the SFU add, without either client's own stack.
	sent, ok := time.Time{}, false
	if pubs := l.sending.Load(); pubs != nil && l.cfg.Simulcast {
		// The server renumbers a layer after a move; the stamp keeps
		// the number it was sent with.
		sent, ok = (*pubs)[st.Publisher].SentAtLayer(int(st.Layer), uint16(st.Seq))
	} else if pubs != nil {
		sent, ok = (*pubs)[st.Publisher].SentAt(p.SequenceNumber)
	}
	if !ok {
		sent = st.Sent
	}
	if socket.IsZero() {
		socket = read
	}
	l.delayPair.RLock()
	l.delays.Record(socket.Sub(sent))
	l.appDelays.Record(read.Sub(st.Sent))
	l.delayPair.RUnlock()
	if !s.heard[st.Publisher].Swap(true) {
		s.nHeard.Add(1)
	}
}

// WaitFlowing waits until every subscriber (and, with Simulcast, every
// publisher) has received packets from every publisher.
func (l *Load) WaitFlowing(ctx context.Context) error {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		missing := 0
		for _, s := range append(l.subs[:len(l.subs):len(l.subs)], l.pubRecv...) {
			if s != nil {
				missing += s.expect - int(s.nHeard.Load())
			}
		}
		if missing == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("loadgen: %d publisher→subscriber flows never started: %w", missing, ctx.Err())
		case <-t.C:
		}
	}
}

// Close stops sending and disconnects every client.
func (l *Load) Close() error {
	l.closeOnce.Do(func() {
		if l.cancel != nil {
			l.cancel()
		}
		l.wg.Wait()
		var errs []error
		var mu sync.Mutex
		var wg sync.WaitGroup
		closeClient := func(c *Client) {
			if c == nil {
				return
			}
			wg.Go(func() {
				if err := c.Close(); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			})
		}
		for _, p := range l.pubs {
			closeClient(p)
		}
		for _, s := range l.subs {
			if s != nil {
				closeClient(s.client)
			}
		}
		wg.Wait()
		l.closeErr = errors.Join(errs...)
	})
	return l.closeErr
}
