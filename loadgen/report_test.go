package loadgen

import (
	"testing"
	"time"
)

func TestSnapshotWindow(t *testing.T) {
	var h Histogram
	t0 := time.Unix(100, 0)
	from := Snapshot{At: t0, Sent: 10, Offered: 20, Received: 15, Spanned: 16, Duplicates: 1, Delays: h.Snapshot()}
	for i := 1; i <= 100; i++ {
		h.Record(time.Duration(i) * time.Microsecond)
	}
	to := Snapshot{At: t0.Add(2 * time.Second), Sent: 60, Offered: 120, Received: 115, Spanned: 141, Duplicates: 4, Unstamped: 2, Delays: h.Snapshot()}
	w := to.Window(from)
	want := Window{Duration: 2 * time.Second, Sent: 50, Offered: 100, Received: 100, Expected: 125, Duplicates: 3, Unstamped: 2,
		Delivery: 0.8, P50: 50 * time.Microsecond, P99: 99 * time.Microsecond, Max: 100 * time.Microsecond}
	if w != want {
		t.Fatalf("window = %+v\nwant     %+v", w, want)
	}
	if r := w.ReceivedRate(); r != 50 {
		t.Fatalf("received rate %v, want 50/s", r)
	}
	if empty := (Snapshot{Delays: h.Snapshot()}).Window(Snapshot{Delays: h.Snapshot()}); empty.Delivery != 1 || empty.ReceivedRate() != 0 {
		t.Fatalf("empty window = %+v", empty)
	}
}
