package rtpdump

import (
	"testing"

	"github.com/pion/rtcp"
)

// pionSenderReports is the reference: pion/rtcp's full parse.
func pionSenderReports(data []byte) ([]SenderReport, bool) {
	pkts, err := rtcp.Unmarshal(data)
	if err != nil {
		return nil, false
	}
	var out []SenderReport
	for _, p := range pkts {
		if sr, ok := p.(*rtcp.SenderReport); ok {
			out = append(out, SenderReport{SSRC: sr.SSRC, NTPTime: sr.NTPTime, RTPTime: sr.RTPTime})
		}
	}
	return out, true
}

func senderReports(data []byte) []SenderReport {
	var out []SenderReport
	SenderReports(data, func(sr SenderReport) { out = append(out, sr) })
	return out
}

func marshal(t testing.TB, pkts ...rtcp.Packet) []byte {
	t.Helper()
	b, err := rtcp.Marshal(pkts)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func rtcpSeeds(t testing.TB) map[string][]byte {
	sr := &rtcp.SenderReport{SSRC: 0x01020304, NTPTime: 0xe5f0_0000_8000_0000, RTPTime: 90000, PacketCount: 7, OctetCount: 7000}
	withReport := &rtcp.SenderReport{SSRC: 9, NTPTime: 1 << 40, RTPTime: 48000,
		Reports: []rtcp.ReceptionReport{{SSRC: 5, FractionLost: 1, TotalLost: 2, LastSequenceNumber: 3}}}
	sdes := &rtcp.SourceDescription{Chunks: []rtcp.SourceDescriptionChunk{{Source: 0x01020304,
		Items: []rtcp.SourceDescriptionItem{{Type: rtcp.SDESCNAME, Text: "kiroku"}}}}}
	rr := &rtcp.ReceiverReport{SSRC: 3}
	whole := marshal(t, sr, sdes)
	return map[string][]byte{
		"sender report":                  marshal(t, sr),
		"with a reception report":        marshal(t, withReport),
		"compound of two reports":        marshal(t, sr, sdes, withReport),
		"receiver report only":           marshal(t, rr),
		"cut short":                      whole[:len(whole)-4],
		"empty":                          nil,
		"version 1":                      append([]byte{0x40}, whole[1:]...),
		"report count past the length":   append([]byte{0x81}, marshal(t, sr)[1:]...),
		"length past the end":            append(marshal(t, sr)[:3:3], 0xff),
		"trailing bytes after a packet":  append(marshal(t, sr), 0x80),
		"a second packet's header short": append(marshal(t, sr), 0x80, 0xc8),
	}
}

// TestSenderReports compares the in-place reading with pion/rtcp's parse:
// wherever pion accepts the bytes, both find the same sender reports.
func TestSenderReports(t *testing.T) {
	for name, data := range rtcpSeeds(t) {
		got := senderReports(data)
		want, ok := pionSenderReports(data)
		if ok && !equalReports(got, want) {
			t.Errorf("%s: %+v, pion/rtcp %+v", name, got, want)
		}
		if !ok && len(got) > 0 {
			t.Errorf("%s: %+v from bytes pion/rtcp refuses", name, got)
		}
	}
	if got := senderReports(rtcpSeeds(t)["compound of two reports"]); len(got) != 2 || got[1].SSRC != 9 || got[0].NTPTime != 0xe5f0_0000_8000_0000 {
		t.Errorf("compound: %+v, want both reports", got)
	}
}

// FuzzSenderReports checks, on any bytes, that reading them never panics
// and agrees with pion/rtcp wherever pion accepts them.
func FuzzSenderReports(f *testing.F) {
	for _, data := range rtcpSeeds(f) {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got := senderReports(data)
		if want, ok := pionSenderReports(data); ok && !equalReports(got, want) {
			t.Errorf("%x: %+v, pion/rtcp %+v", data, got, want)
		}
	})
}

func equalReports(a, b []SenderReport) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
