//go:build linux

package memudp

import (
	"net"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestCoalescedStream: a steady stream of datagrams, several per
// coalescing interval, arrives whole and in order, read several per
// system call; once the stream stops the reader waits for the socket
// again, and a lone datagram is read at once.
func TestCoalescedStream(t *testing.T) {
	b := attachBatched(time.Millisecond)(t, nil)
	outside := listen(t)
	defer outside.Close()
	const total = 2000
	go func() {
		for i := range total {
			_, _ = outside.WriteToUDPAddrPort([]byte{byte(i >> 8), byte(i)}, addrOf(b))
			if i%8 == 7 {
				time.Sleep(time.Millisecond)
			}
		}
	}()
	buf := make([]byte, 10)
	for i := range total {
		_ = b.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, from, err := b.ReadFromAddrPort(buf)
		if err != nil || n != 2 || from != addrOf(outside) {
			t.Fatalf("datagram %d: %d bytes from %s: %v", i, n, from, err)
		}
		if got := int(buf[0])<<8 | int(buf[1]); got != i {
			t.Fatalf("datagram %d read as %d", i, got)
		}
	}
	st := b.ReadStats()
	if st.Datagrams != total || st.Reads*2 > st.Datagrams {
		t.Fatalf("stats %+v: want %d datagrams, at least two per read on average", st, total)
	}
	time.Sleep(50 * time.Millisecond) // two empty polls: waiting again
	waits := b.ReadStats().Waits
	go func() {
		time.Sleep(20 * time.Millisecond)
		_, _ = outside.WriteToUDPAddrPort([]byte("late"), addrOf(b))
	}()
	_ = b.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, _, err := b.ReadFromAddrPort(buf); err != nil || string(buf[:n]) != "late" {
		t.Fatalf("lone datagram: %q, %v", buf[:n], err)
	}
	if got := b.ReadStats().Waits; got <= waits {
		t.Fatalf("waits %d after the stream (were %d): the reader kept polling an idle socket", got, waits)
	}
}

// TestBurstIsReadWithoutSleeping: datagrams queued beyond one batch are
// read batch after batch; the reader sleeps only once the socket is
// drained.
func TestBurstIsReadWithoutSleeping(t *testing.T) {
	udp := listen(t)
	if err := udp.SetReadBuffer(4 << 20); err != nil {
		t.Fatal(err)
	}
	b, err := (*Switch)(nil).AttachBatched(udp, time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	outside := listen(t)
	defer outside.Close()
	// As after heavy traffic (no read runs yet, so this is safe).
	b.batch.polling, b.batch.drained = true, true
	const burst = 1000
	for range burst {
		if _, err := outside.WriteToUDPAddrPort([]byte{2}, addrOf(b)); err != nil {
			t.Fatal(err)
		}
	}
	buf := make([]byte, 10)
	for i := range burst {
		_ = b.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, _, err := b.ReadFromAddrPort(buf); err != nil {
			t.Fatalf("datagram %d of %d: %v", i, burst, err)
		}
	}
	if slept := b.ReadStats().Polls; slept > 4 {
		t.Fatalf("the reader slept %d times while %d datagrams were queued (%d per batch)", slept, burst, rawBatch)
	}
}

// TestBatchedIPv6: a batched Conn on ::1 reads its senders' addresses and
// writes to them.
func TestBatchedIPv6(t *testing.T) {
	udp, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
	if err != nil {
		t.Fatalf("IPv6 loopback: %v", err)
	}
	b, err := NewSwitch().AttachBatched(udp, time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	peer, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	if _, err := peer.WriteToUDPAddrPort([]byte("ping"), addrOf(b)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 10)
	_ = b.SetReadDeadline(time.Now().Add(2 * time.Second))
	n, from, err := b.ReadFromAddrPort(buf)
	if err != nil || string(buf[:n]) != "ping" || from != addrOf(peer) {
		t.Fatalf("read %q from %s: %v, want ping from %s", buf[:n], from, err, addrOf(peer))
	}
	if _, err := b.WriteToAddrPort([]byte("pong"), from); err != nil {
		t.Fatal(err)
	}
	_ = peer.SetReadDeadline(time.Now().Add(2 * time.Second))
	n, back, err := peer.ReadFromUDPAddrPort(buf)
	if err != nil || string(buf[:n]) != "pong" || back != addrOf(b) {
		t.Fatalf("peer read %q from %s: %v", buf[:n], back, err)
	}
}

// TestAttachBatchedRefusesNegative coalescing.
func TestAttachBatchedRefusesNegative(t *testing.T) {
	udp := listen(t)
	defer udp.Close()
	if _, err := NewSwitch().AttachBatched(udp, -time.Millisecond); err == nil {
		t.Fatal("attached with a negative coalescing interval")
	}
}

// queueSocket is a batchSocket whose only use here is its queue limit.
type queueSocket struct {
	batchSocket
	limit int
}

func (s queueSocket) queueLimit() int { return s.limit }

// TestPollIntervalFitsTheBuffer: a polling reader halves its interval
// while one interval's datagrams would fill more than half the socket's
// buffer, down to minPollInterval, doubles it back once they fill less
// than an eighth, and always wakes on a multiple of its interval on the
// clock, never before.
func TestPollIntervalFitsTheBuffer(t *testing.T) {
	r := &batchReader{sock: queueSocket{limit: 64}, coalesce: 2 * time.Millisecond, interval: 2 * time.Millisecond}
	steps := []struct {
		taken int
		want  time.Duration
	}{
		{40, time.Millisecond},
		{40, 500 * time.Microsecond},
		{33, minPollInterval},
		{64, minPollInterval},
		{20, minPollInterval}, // between an eighth and a half: kept
		{7, 500 * time.Microsecond},
		{0, time.Millisecond},
		{3, 2 * time.Millisecond},
		{0, 2 * time.Millisecond},
	}
	for i, s := range steps {
		r.taken = s.taken
		before := time.Now().UnixNano()
		r.rest()
		after := time.Now().UnixNano()
		if r.interval != s.want {
			t.Fatalf("step %d (%d taken): interval %v, want %v", i, s.taken, r.interval, s.want)
		}
		step := int64(r.interval)
		if boundary := (before/step + 1) * step; after < boundary {
			t.Fatalf("step %d: woke %d ns before the next multiple of %v", i, boundary-after, r.interval)
		}
		if r.taken != 0 {
			t.Fatalf("step %d: the count was not reset", i)
		}
	}
	if got := r.polls.Load(); got != uint64(len(steps)) {
		t.Fatalf("%d polls counted, want %d", got, len(steps))
	}
}

// TestArrivalIsTheKernels: a batched Conn reports when the kernel
// received a datagram, or when it was handed over in memory, not when it
// was read, even long after; a Conn read through Go's poller reports
// none.
func TestArrivalIsTheKernels(t *testing.T) {
	sw := NewSwitch()
	b := attachBatched(time.Millisecond)(t, sw)
	outside := listen(t)
	defer outside.Close()
	buf := make([]byte, 10)
	// The kernel starts stamping arrivals a moment after the first
	// socket asks (a deferred switch); until then it stamps at the read.
	// Some tries are allowed for that, none for a reader that never
	// reports the kernel's time.
	var early, late time.Duration
	for try := 0; ; try++ {
		sent := time.Now()
		if _, err := outside.WriteToUDPAddrPort([]byte("early"), addrOf(b)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(30 * time.Millisecond)
		_ = b.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, _, err := b.ReadFromAddrPort(buf); err != nil {
			t.Fatal(err)
		}
		read, at := time.Now(), b.Arrival()
		early, late = at.Sub(sent), read.Sub(at)
		if early > -time.Millisecond && late >= 25*time.Millisecond {
			break
		}
		if try == 20 {
			t.Fatalf("arrival %v after sending and %v before the read, want about when it was sent", early, late)
		}
	}
	a := attach(t, sw)
	handed := time.Now()
	if _, err := a.WriteToAddrPort([]byte("memory"), addrOf(b)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(60 * time.Millisecond)
	if _, _, err := b.ReadFromAddrPort(buf); err != nil {
		t.Fatal(err)
	}
	read := time.Now()
	if at := b.Arrival(); at.Before(handed) || read.Sub(at) < 50*time.Millisecond {
		t.Fatalf("handed over: arrival %v after the write and %v before the read", at.Sub(handed), read.Sub(at))
	}
	if _, err := outside.WriteToUDPAddrPort([]byte("x"), addrOf(a)); err != nil {
		t.Fatal(err)
	}
	_ = a.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := a.ReadFromAddrPort(buf); err != nil {
		t.Fatal(err)
	}
	if at := a.Arrival(); !at.IsZero() {
		t.Fatalf("a Conn read through the poller has arrival %v", at)
	}
}

// cmsg builds one control message as the kernel lays it out (8-byte
// aligned): a header and data, padded to the alignment.
func cmsg(level, typ int32, data []byte) []byte {
	b := make([]byte, unix.CmsgSpace(len(data)))
	h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
	h.Level, h.Type = level, typ
	h.SetLen(unix.CmsgLen(len(data)))
	copy(b[unix.CmsgLen(0):], data)
	return b
}

// aligned copies b into 8-byte aligned memory, as the reader's control
// buffers are.
func aligned(b []byte) []byte {
	words := make([]uint64, (len(b)+7)/8)
	out := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(words))), len(words)*8)[:len(b)]
	copy(out, b)
	return out
}

func TestReceiveTimestamp(t *testing.T) {
	ts := unix.NsecToTimespec(1_700_000_000_123_456_789)
	tsBytes := unsafe.Slice((*byte)(unsafe.Pointer(&ts)), unsafe.Sizeof(ts))
	stamp := cmsg(unix.SOL_SOCKET, unix.SCM_TIMESTAMPNS, tsBytes)
	other := cmsg(unix.IPPROTO_IP, unix.IP_TOS, []byte{1, 0, 0, 0})
	truncated := append([]byte(nil), stamp...)
	(*unix.Cmsghdr)(unsafe.Pointer(&truncated[0])).SetLen(len(stamp) + 8)
	for _, tc := range []struct {
		name string
		oob  []byte
		ok   bool
	}{
		{"timestamp", stamp, true},
		{"after another message", append(append([]byte(nil), other...), stamp...), true},
		{"none", nil, false},
		{"another message only", other, false},
		{"shorter than a header", stamp[:4], false},
		{"length past the buffer", truncated, false},
		{"timestamp cut short", cmsg(unix.SOL_SOCKET, unix.SCM_TIMESTAMPNS, tsBytes[:4]), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := receiveTimestamp(aligned(tc.oob))
			if ok != tc.ok || (ok && got != ts.Nano()) {
				t.Fatalf("got %d, %v; want %d, %v", got, ok, ts.Nano(), tc.ok)
			}
		})
	}
}

// FuzzReceiveTimestamp: any control buffer is read without a panic or a
// read past its end.
func FuzzReceiveTimestamp(f *testing.F) {
	ts := unix.NsecToTimespec(1)
	f.Add(cmsg(unix.SOL_SOCKET, unix.SCM_TIMESTAMPNS, unsafe.Slice((*byte)(unsafe.Pointer(&ts)), unsafe.Sizeof(ts))))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, oob []byte) {
		_, _ = receiveTimestamp(aligned(oob))
	})
}
