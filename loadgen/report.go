package loadgen

import (
	"fmt"
	"time"
)

// Snapshot is the load's running totals at one moment.
type Snapshot struct {
	// At is when the snapshot was taken.
	At time.Time
	// Sent counts packets the publishers sent.
	Sent uint64
	// Offered counts the packets receivers should get of those sent:
	// each packet times the clients that receive it (with Simulcast,
	// only r2's packets, to the subscribers and the other publishers).
	Offered uint64
	// Received counts stamped packets the subscribers received, each
	// packet once per subscriber.
	Received uint64
	// Spanned counts the packets the subscribers should have received
	// by the sequence numbers they saw: received plus lost.
	Spanned uint64
	// Duplicates counts further copies (retransmissions) and packets too
	// late to tell from one.
	Duplicates uint64
	// Unstamped counts received packets without a valid stamp.
	Unstamped uint64
	// SendErrors counts packets a publisher failed to send.
	SendErrors uint64
	// Delays holds the forwarding delay of every received packet, from
	// the publisher's UDP socket to the subscriber's: what the SFU and
	// the network add.
	Delays *DelayCounts
	// AppDelays holds the same packets' delays from the publisher stamping
	// the payload until the subscriber's WebRTC stack (SRTP, pion's
	// pipelines, on both ends) handed them over.
	AppDelays *DelayCounts
}

// Snapshot returns the running totals.
func (l *Load) Snapshot() Snapshot {
	l.delayPair.Lock()
	delays, app := l.delays.Snapshot(), l.appDelays.Snapshot()
	l.delayPair.Unlock()
	return Snapshot{At: l.cfg.Now(), Sent: l.sent.Load(), Offered: l.offered.Load(), Received: l.received.Load(),
		Spanned: l.spanned.Load(), Duplicates: l.duplicates.Load(), Unstamped: l.unstamped.Load(), SendErrors: l.sendErrors.Load(),
		Delays: delays, AppDelays: app}
}

// Window is what happened between two snapshots.
type Window struct {
	Duration time.Duration
	// Sent, Offered and Received as in [Snapshot]; Expected is the
	// window's Spanned: packets received plus packets lost.
	Sent, Offered, Received, Expected uint64
	// Duplicates and Unstamped as in [Snapshot].
	Duplicates, Unstamped uint64
	// Delivery is Received / Expected (1 when nothing was expected).
	Delivery float64
	// P50, P99 and Max are forwarding delay quantiles, socket to socket.
	P50, P99, Max time.Duration
	// AppP50 and AppP99 are the quantiles from stamp to read, through
	// both clients' stacks.
	AppP50, AppP99 time.Duration
}

// Window returns what happened between the snapshots from and to. Loss is
// judged by sequence numbers, so packets in flight at either edge do not
// skew it.
func (to Snapshot) Window(from Snapshot) Window {
	w := Window{Duration: to.At.Sub(from.At), Sent: to.Sent - from.Sent, Offered: to.Offered - from.Offered,
		Received:   to.Received - from.Received,
		Duplicates: to.Duplicates - from.Duplicates, Unstamped: to.Unstamped - from.Unstamped}
	w.Expected = to.Spanned - from.Spanned
	w.Delivery = 1
	if w.Expected > 0 {
		w.Delivery = float64(w.Received) / float64(w.Expected)
	}
	d := to.Delays.Sub(from.Delays)
	w.P50, w.P99, w.Max = d.Quantile(0.5), d.Quantile(0.99), d.Quantile(1)
	if to.AppDelays != nil && from.AppDelays != nil {
		a := to.AppDelays.Sub(from.AppDelays)
		w.AppP50, w.AppP99 = a.Quantile(0.5), a.Quantile(0.99)
	}
	return w
}

// ReceivedRate is received packets per second.
func (w Window) ReceivedRate() float64 {
	if w.Duration <= 0 {
		return 0
	}
	return float64(w.Received) / w.Duration.Seconds()
}

// String is a one-line summary.
func (w Window) String() string {
	return fmt.Sprintf("%.1fs sent %d received %d/%d (%.2f%%, %d duplicates, %d unstamped) delay socket to socket p50 %v p99 %v max %v, through the clients' stacks p50 %v p99 %v",
		w.Duration.Seconds(), w.Sent, w.Received, w.Expected, 100*w.Delivery, w.Duplicates, w.Unstamped,
		w.P50, w.P99, w.Max, w.AppP50, w.AppP99)
}
