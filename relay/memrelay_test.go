package relay

import (
	"net"
	"testing"
	"time"

	"github.com/kiroku-sfu/kiroku/memudp"
)

// TestRelayInMemory relays both ways between a TURN client and an SFU
// socket attached to the server's Switch: the datagrams arrive, from the
// relay's address, and none crosses the kernel between relay and SFU.
func TestRelayInMemory(t *testing.T) {
	probe, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := probe.LocalAddr().(*net.UDPAddr).Port
	_ = probe.Close()
	sw := memudp.NewSwitch()
	s, err := New(Config{Address: "127.0.0.1", Port: uint16(port), Realm: "kiroku", Switch: sw})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	udp, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	sfu, err := sw.Attach(udp)
	if err != nil {
		t.Fatal(err)
	}
	defer sfu.Close()
	user, pass, err := s.Credentials("CONN1")
	if err != nil {
		t.Fatal(err)
	}
	_, relayed, err := allocate(t, s, user, pass)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := relayed.WriteTo([]byte("to the sfu"), sfu.LocalAddr()); err != nil {
		t.Fatalf("relay to the SFU: %v", err)
	}
	_ = sfu.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 64)
	n, from, err := sfu.ReadFrom(buf)
	if err != nil || string(buf[:n]) != "to the sfu" || from.String() != relayed.LocalAddr().String() {
		t.Fatalf("the SFU got %q from %v (%v), want the datagram from relay %v", buf[:n], from, err, relayed.LocalAddr())
	}
	if _, err := sfu.WriteTo([]byte("to the client"), from); err != nil {
		t.Fatal(err)
	}
	_ = relayed.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, from, err = relayed.ReadFrom(buf)
	if err != nil || string(buf[:n]) != "to the client" || from.String() != sfu.LocalAddr().String() {
		t.Fatalf("the client got %q from %v (%v), want the SFU's datagram", buf[:n], from, err)
	}
	if st := s.Stats(); st.MemoryDatagrams != 2 || st.MemoryDropped != 0 {
		t.Fatalf("stats %+v, want both datagrams handed over in memory", st)
	}
}
