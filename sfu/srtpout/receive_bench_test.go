package srtpout

import (
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

// headerReader stands for one of pion's receive interceptors: it reads
// the packet's parsed header from the attributes, as theirs do.
type headerReader struct{ next interceptor.RTPReader }

func (h headerReader) Read(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
	n, a, err := h.next.Read(b, a)
	if err != nil {
		return n, a, err
	}
	if _, err := a.GetRTPHeader(b[:n]); err != nil {
		return 0, nil, err
	}
	return n, a, nil
}

// BenchmarkReceive decrypts, parses and pulls through a three-interceptor
// chain one 1200-byte video packet with four header extensions per
// iteration, the direct receive path's work per packet before the
// track's handler; allocations per packet are the number to watch.
func BenchmarkReceive(b *testing.B) {
	key, salt := make([]byte, 16), make([]byte, 12)
	profile := srtp.ProtectionProfileAeadAes128Gcm
	enc, err := srtp.CreateContext(key, salt, profile)
	if err != nil {
		b.Fatal(err)
	}
	const ssrc, count = 0x1234, 4096
	sealed := make([][]byte, count)
	for i := range sealed {
		p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: uint16(i),
			Timestamp: uint32(i * 3000), SSRC: ssrc}, Payload: make([]byte, 1200)}
		for id := uint8(1); id <= 4; id++ {
			if err := p.SetExtension(id, []byte{id, id, id}); err != nil {
				b.Fatal(err)
			}
		}
		raw, err := p.Marshal()
		if err != nil {
			b.Fatal(err)
		}
		if sealed[i], err = enc.EncryptRTP(nil, raw, nil); err != nil {
			b.Fatal(err)
		}
	}
	r := &Receiver{streams: map[uint32]*inStream{}, attrs: interceptor.Attributes{}, headerKey: headerAttributeKey()}
	// Decrypting the same packets again must not look like a replay.
	if r.ctx, err = srtp.CreateContext(key, salt, profile); err != nil {
		b.Fatal(err)
	}
	var reader interceptor.RTPReader = &bottomReader{}
	for range 3 {
		reader = headerReader{next: reader}
	}
	handled := 0
	r.streams[ssrc] = &inStream{chain: &chain{reader: reader}, handle: func(*rtp.Packet) { handled++ }}
	b.ReportAllocs()
	b.SetBytes(int64(len(sealed[0])))
	for i := 0; b.Loop(); i++ {
		if !r.receive(sealed[i%count], time.Time{}) {
			b.Fatal("not received")
		}
	}
	if handled == 0 || r.Dropped() != 0 {
		b.Fatalf("handled %d, dropped %d", handled, r.Dropped())
	}
}
