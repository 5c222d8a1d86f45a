package ingestbench

import (
	"bufio"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"
)

func TestInPackets(t *testing.T) {
	info := `{"janus":"success","info":{"webrtc":{"dtls":{"stats":{"in":{"packets":3}}},"media":{
		"0":{"type":"video","stats":{"in":{"packets":800,"bytes":626101,"nacks":0},"out":{"packets":5}}},
		"1":{"type":"audio","stats":{"in":{"packets":120,"bytes":19938},"out":{"packets":0}}}}}}}`
	n, err := inPackets([]byte(info))
	if err != nil || n != 920 {
		t.Fatalf("inPackets = %d, %v; want 920", n, err)
	}
	if _, err := inPackets([]byte(`{"info":{}}`)); err == nil {
		t.Fatal("no in_stats: want an error")
	}
}

func TestSummarize(t *testing.T) {
	mk := func(v string, rep int, cpu time.Duration) sample {
		return sample{variant: v, n: 8, rep: rep, cpu: cpu, wall: 10 * time.Second, received: 1000, sent: 1000}
	}
	small := mk(kirokuWebM, 0, time.Second)
	small.records, small.sentMB, small.recorded = true, 10, 4e6
	if small.valid() {
		t.Fatal("a recording that grew by 4 MB of 10 MB sent counts as valid")
	}
	samples := []sample{mk(kirokuOff, 0, 2*time.Second), mk(janusOff, 0, time.Second), mk(floorName, 0, time.Second/4),
		mk(kirokuOff, 1, 3*time.Second), mk(janusOff, 1, 2*time.Second), mk(floorName, 1, time.Second/2)}
	dropped := mk(janusOff, 2, time.Second/10)
	dropped.received = 10
	samples = append(samples, dropped, mk(kirokuOff, 2, time.Second))
	rows := summarize(samples, allVariants("", "", false), []int{8})
	r := rows[0]
	if r.name != kirokuOff || r.valid != 3 || r.perJanus.lo != 1.5 || r.perJanus.hi != 2 || r.perFloor.med != 7 {
		t.Fatalf("row %+v", r)
	}
	if j := rows[3]; j.name != janusOff || j.valid != 2 || j.total != 3 {
		t.Fatalf("janus row %+v", j)
	}
}

// TestFloorReceiver sends the senders' SRTP packets over loopback to the
// receiver and reads its count.
func TestFloorReceiver(t *testing.T) {
	key := make([]byte, 44)
	_, _ = rand.Read(key)
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- runFloorReceiver("127.0.0.1:0", key, inR, outW) }()
	answers := bufio.NewReader(outR)
	line, err := answers.ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "ready ")
	if err != nil || !ok {
		t.Fatalf("ready: %q %v", line, err)
	}
	to, err := net.ResolveUDPAddr("udp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	const senders, each = 3, 100
	for i := range senders {
		s, err := newFloorSender("127.0.0.1", to, key, i)
		if err != nil {
			t.Fatal(err)
		}
		p := &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: 65500}, Payload: make([]byte, 1000)}
		for range each {
			if err := s.WriteRTP(p); err != nil {
				t.Fatal(err)
			}
			p.SequenceNumber++ // across the wrap
			time.Sleep(100 * time.Microsecond)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	var packets, failed uint64
	for deadline := time.Now().Add(5 * time.Second); packets < senders*each && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if _, err := io.WriteString(inW, "count\n"); err != nil {
			t.Fatal(err)
		}
		line, _ := answers.ReadString('\n')
		if _, err := fmt.Sscanf(line, "%d %d", &packets, &failed); err != nil {
			t.Fatalf("answer %q: %v", line, err)
		}
	}
	if packets != senders*each || failed != 0 {
		t.Fatalf("received %d, %d failed; want %d", packets, failed, senders*each)
	}
	_ = inW.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestFloorRoundTrip checks the sender's packets decrypt at a receiver.
func TestFloorRoundTrip(t *testing.T) {
	key := make([]byte, 44)
	_, _ = rand.Read(key)
	rx, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	ctx, err := newSRTPContext(key)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := newSRTPContext(key)
	if err != nil {
		t.Fatal(err)
	}
	p := rtp.Packet{Header: rtp.Header{Version: 2, SSRC: 7, SequenceNumber: 65535}, Payload: []byte("media")}
	for range 3 {
		plain, _ := p.Marshal()
		out, err := enc.EncryptRTP(nil, plain, &p.Header)
		if err != nil {
			t.Fatal(err)
		}
		var h rtp.Header
		got, err := ctx.DecryptRTP(out, out, &h)
		if err != nil || string(got[h.MarshalSize():]) != "media" || h.SequenceNumber != p.SequenceNumber {
			t.Fatalf("decrypt in place: %q, %v", got, err)
		}
		p.SequenceNumber++
	}
}

func TestChooseVariants(t *testing.T) {
	names := func(vs []variant) []string {
		var out []string
		for _, v := range vs {
			out = append(out, v.name)
		}
		return out
	}
	all := allVariants("", "", false)
	if got := chooseVariants("", all); len(got) != len(all) {
		t.Fatalf("no filter: %v", names(got))
	}
	got := names(chooseVariants("floor, Janus", all))
	want := []string{janusOff, janusOn, floorName}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("chooseVariants = %v, want %v", got, want)
	}
}

func TestCountsEnv(t *testing.T) {
	t.Setenv(publishersEnv, "16, 8")
	if got, err := countsEnv(nil); err != nil || len(got) != 2 || got[0] != 8 || got[1] != 16 {
		t.Fatalf("countsEnv = %v, %v", got, err)
	}
	t.Setenv(publishersEnv, "0")
	if _, err := countsEnv(nil); err == nil {
		t.Fatal("0 publishers: want an error")
	}
}

func TestBVariants(t *testing.T) {
	vs := allVariants("a = 1", "b = 2", false)
	if len(vs) != 9 {
		t.Fatalf("%d variants, want 9", len(vs))
	}
	b := vs[7]
	if b.name != bPrefix+kirokuWebM || b.basePair != kirokuWebM || b.conf != "a = 1\nb = 2" || b.record != "webm" {
		t.Fatalf("B variant %+v", b)
	}
	if got := mergeConf("a = 1\n# b = 0\nb = 1", " b = 2"); got != "a = 1\n# b = 0\n b = 2" {
		t.Fatalf("mergeConf = %q", got)
	}
	if got := allVariants("direct = false", "direct = true", false)[6].conf; got != "direct = true" {
		t.Fatalf("B conf overriding A's key: %q", got)
	}
	other := allVariants("a = 1", "", true)
	if len(other) != 9 || !other[6].otherBinary || other[6].conf != "a = 1" || other[0].otherBinary {
		t.Fatalf("B rows of another build: %+v", other)
	}
	mk := func(v string, cpu time.Duration) sample {
		return sample{variant: v, n: 8, cpu: cpu, wall: 10 * time.Second, received: 1000, sent: 1000}
	}
	rows := summarize([]sample{mk(kirokuOff, 2*time.Second), mk(bPrefix+kirokuOff, time.Second)}, vs, []int{8})
	if r := rows[6]; r.perBase.med != 0.5 {
		t.Fatalf("B row %+v", r)
	}
}

func TestRecyclePages(t *testing.T) {
	// 16 publishers, 5 s + 20 s windows: twice 35 s of 16 clips.
	if got, want := recycledPages(16, 5*time.Second, 20*time.Second), int64(2*16*375_000*35); got != want {
		t.Errorf("recycledPages = %d, want %d", got, want)
	}
	dir := t.TempDir()
	if err := recyclePages(dir, 3<<20); err != nil {
		t.Fatal(err)
	}
	if left, err := os.ReadDir(dir); err != nil || len(left) != 0 {
		t.Errorf("left behind %v (%v)", left, err)
	}
	if err := recyclePages(filepath.Join(dir, "missing"), 1); err == nil {
		t.Error("no error for a directory that does not exist")
	}
}
