package srtpout

import (
	"testing"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"
)

// TestSlabHandsOutSeparateRoom carves many packets and checks that no two
// share a byte, that appending to one never reaches the next, and that
// packets too big for a slab get their own allocation.
func TestSlabHandsOutSeparateRoom(t *testing.T) {
	var s packetSlab
	var bufs [][]byte
	for i := range 200 {
		n := 100 + i*37%1300
		b := s.buffer(n)
		if len(b) != n || cap(b) != n {
			t.Fatalf("buffer(%d): len %d cap %d", n, len(b), cap(b))
		}
		for j := range b {
			b[j] = byte(i)
		}
		bufs = append(bufs, b)
	}
	_ = append(bufs[0], 0xEE) // must reallocate, not write into bufs[1]
	for i, b := range bufs {
		for _, c := range b {
			if c != byte(i) {
				t.Fatalf("buffer %d was overwritten", i)
			}
		}
	}
	if big := s.buffer(slabBytes); len(big) != slabBytes {
		t.Errorf("big buffer len %d", len(big))
	}

	seen := map[*rtp.Packet]bool{}
	for range 3 * slabPackets {
		p := s.packet()
		if seen[p] {
			t.Fatal("one packet handed out twice")
		}
		seen[p] = true
		if len(p.Extensions) != 0 || cap(p.Extensions) != slabExtensions {
			t.Fatalf("extensions len %d cap %d", len(p.Extensions), cap(p.Extensions))
		}
		p.Extensions = append(p.Extensions, rtp.Extension{})
	}
	a, b := s.packet(), s.packet()
	for range slabExtensions {
		a.Extensions = append(a.Extensions, rtp.Extension{})
	}
	a.Extensions = append(a.Extensions, rtp.Extension{})
	if len(b.Extensions) != 0 {
		t.Error("a packet's extensions grew into its neighbour's")
	}
}

// TestSlabPacketsParse parses a packet with more extensions than a slab
// packet has room for: Unmarshal allocates and nothing else changes.
func TestSlabPacketsParse(t *testing.T) {
	src := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: 7, SSRC: 9,
		Extension: true, ExtensionProfile: rtp.ExtensionProfileOneByte}, Payload: []byte{1, 2, 3}}
	for id := uint8(1); id <= slabExtensions+2; id++ {
		if err := src.SetExtension(id, []byte{id}); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := src.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var s packetSlab
	p := s.packet()
	if err := p.Unmarshal(raw); err != nil {
		t.Fatal(err)
	}
	if len(p.Extensions) != slabExtensions+2 || p.SequenceNumber != 7 || string(p.Payload) != "\x01\x02\x03" {
		t.Errorf("parsed %+v", p)
	}
	if got := p.GetExtension(slabExtensions + 2); len(got) != 1 || got[0] != slabExtensions+2 {
		t.Errorf("last extension %v", got)
	}
}

// TestHeaderAttributeKey guards what the Receiver relies on: a header
// stored under the key is the one GetRTPHeader returns, unparsed again.
func TestHeaderAttributeKey(t *testing.T) {
	key := headerAttributeKey()
	if key == nil {
		t.Fatal("pion's interceptor.Attributes no longer keeps parsed headers under one key")
	}
	h := &rtp.Header{SequenceNumber: 4242}
	a := interceptor.Attributes{key: h}
	got, err := a.GetRTPHeader([]byte{0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1})
	if err != nil || got != h {
		t.Errorf("GetRTPHeader = %v, %v; want the stored header", got, err)
	}
}
