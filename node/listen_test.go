package node

import (
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"testing"
)

// TestListenFamilies: a loopback-only listener has a socket on each of
// 127.0.0.1 and [::1]; the other one is one dual-stack socket; both
// answer on both loopback addresses, until stopped.
func TestListenFamilies(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	for _, tc := range []struct {
		name         string
		loopbackOnly bool
		wantSockets  int
	}{
		{"loopback only", true, 2},
		{"everywhere", false, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := listen(0, tc.loopbackOnly, ok)
			if err != nil {
				t.Fatal(err)
			}
			port := strconv.Itoa(l.addr.(*net.TCPAddr).Port)
			if tc.loopbackOnly && l.addr.String() != net.JoinHostPort("127.0.0.1", port) {
				t.Errorf("first socket on %v, want 127.0.0.1", l.addr)
			}
			if got := cap(l.served); got != tc.wantSockets {
				t.Errorf("%d sockets, want %d", got, tc.wantSockets)
			}
			for _, host := range []string{"127.0.0.1", "::1"} {
				resp, err := http.Get("http://" + net.JoinHostPort(host, port) + "/")
				if err != nil {
					t.Fatalf("GET on %s: %v", host, err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if string(body) != "ok" {
					t.Fatalf("GET on %s: %q", host, body)
				}
			}
			if err := l.stop(context.Background()); err != nil {
				t.Fatalf("stop: %v", err)
			}
			if _, err := net.Dial("tcp", net.JoinHostPort("::1", port)); err == nil {
				t.Fatal("[::1] still answers after stop")
			}
		})
	}
}
