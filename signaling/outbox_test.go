package signaling

import (
	"encoding/json"
	"errors"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/webrtc/v4"
)

// dialSmallWindow dials with a 4 KiB TCP receive buffer, so that a client
// that pauses reading makes the server's writer block within a few
// kilobytes and its queue grow, as with a slow or distant client.
func dialSmallWindow(t *testing.T, url string) *websocket.Conn {
	t.Helper()
	d := websocket.Dialer{NetDial: func(network, addr string) (net.Conn, error) {
		nd := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
			var serr error
			err := c.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
			})
			return errors.Join(err, serr)
		}}
		return nd.Dial(network, addr)
	}}
	ws, _, err := d.Dial(url, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = ws.Close() })
	return ws
}

func TestOutbox(t *testing.T) {
	msg := func(n int) outFrame { return outFrame{data: make([]byte, n)} }
	for _, tc := range []struct {
		name   string
		pushes []outFrame
		want   []bool // what each push reports
	}{
		{"under the limit", []outFrame{msg(40), msg(60)}, []bool{true, true}},
		{"over the limit dropped", []outFrame{msg(60), msg(41), msg(40)}, []bool{true, false, true}},
		{"close frame always fits", []outFrame{msg(100), {code: 4041, reason: "TOO-SLOW"}}, []bool{true, true}},
		{"one message bigger than the limit", []outFrame{msg(101)}, []bool{false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := newOutbox(100)
			var kept []outFrame
			for i, f := range tc.pushes {
				if got := o.push(f); got != tc.want[i] {
					t.Fatalf("push %d reported %v, want %v", i, got, tc.want[i])
				}
				if tc.want[i] {
					kept = append(kept, f)
				}
			}
			o.close()
			if o.push(msg(1)) != true {
				t.Fatal("push after close reported false")
			}
			for i, want := range kept {
				f, ok := o.next()
				if !ok || len(f.data) != len(want.data) || f.code != want.code {
					t.Fatalf("frame %d: %d bytes code %d (%v), want %d bytes code %d", i, len(f.data), f.code, ok, len(want.data), want.code)
				}
			}
			if _, ok := o.next(); ok {
				t.Fatal("next after the last frame of a closed outbox reported a frame")
			}
		})
	}
}

// TestOutboxNextWaits checks that next blocks until a push or close.
func TestOutboxNextWaits(t *testing.T) {
	o := newOutbox(100)
	got := make(chan bool)
	go func() {
		for {
			_, ok := o.next()
			got <- ok
			if !ok {
				return
			}
		}
	}()
	select {
	case <-got:
		t.Fatal("next returned from an empty outbox")
	case <-time.After(50 * time.Millisecond):
	}
	o.push(outFrame{data: []byte("x")})
	if ok := <-got; !ok {
		t.Fatal("next reported the outbox closed")
	}
	o.close()
	if ok := <-got; ok {
		t.Fatal("next reported a frame after close")
	}
}

// TestNotifyBurstReachesSlowReader checks that a burst of many more
// messages than a client reads at once (a big channel leaving together)
// is delivered in full once the client reads, and that a client that
// never reads is cut off with 4041 TOO-SLOW when its queue passes the
// limit.
func TestNotifyBurstReachesSlowReader(t *testing.T) {
	ts := startServer(t, nil)
	connectOnly := func(channel string) *websocket.Conn {
		ws := dialSmallWindow(t, ts.url)
		if err := ws.WriteMessage(websocket.TextMessage, []byte(connectMsg(channel, "recvonly"))); err != nil {
			t.Fatal(err)
		}
		offer := readType(t, ws, "offer")
		pc := newPC(t)
		t.Cleanup(func() { _ = pc.Close() })
		if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer["sdp"].(string)}); err != nil {
			t.Fatal(err)
		}
		answer, err := pc.CreateAnswer(nil)
		if err == nil {
			err = pc.SetLocalDescription(answer)
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := ws.WriteJSON(map[string]any{"type": "answer", "sdp": answer.SDP}); err != nil {
			t.Fatal(err)
		}
		// Established: its own connection.created arrives first.
		if n := readType(t, ws, "notify"); n["event_type"] != "connection.created" {
			t.Fatalf("first notify %v, want connection.created", n)
		}
		return ws
	}

	slow := connectOnly("burst")
	const burst = 2000 // about 200 KB: far more messages than a count limit would take, under the byte limit
	for i := range burst {
		ts.srv.NotifyChannel("burst", "test.burst", map[string]any{"n": i})
	}
	time.Sleep(200 * time.Millisecond) // the client reads nothing meanwhile
	seen := 0
	_ = slow.SetReadDeadline(time.Now().Add(10 * time.Second))
	for seen < burst {
		_, data, err := slow.ReadMessage()
		if err != nil {
			t.Fatalf("after %d of %d notifications: %v", seen, burst, err)
		}
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		if m["event_type"] == "test.burst" {
			if m["n"] != float64(seen) {
				t.Fatalf("notification %v arrived as number %d", m["n"], seen)
			}
			seen++
		}
	}

	stuck := connectOnly("stuck")
	// More than the queue and the kernel's socket buffers (up to 4 MiB on
	// Linux) can hold while the client reads nothing.
	big := strings.Repeat("x", 16<<10)
	for i := range 8 * outboxLimit / len(big) {
		ts.srv.NotifyChannel("stuck", "test.big", map[string]any{"n": i, "pad": big})
	}
	// The client now reads: what was queued, then the close.
	var ce *websocket.CloseError
	_ = stuck.SetReadDeadline(time.Now().Add(60 * time.Second))
	for ce == nil {
		_, _, err := stuck.ReadMessage()
		if err != nil && !errors.As(err, &ce) {
			t.Fatalf("stuck client: %v", err)
		}
	}
	if ce == nil || ce.Code != codeTooSlow || ce.Text != "TOO-SLOW" {
		t.Fatalf("close %v, want %d TOO-SLOW", ce, codeTooSlow)
	}
}
