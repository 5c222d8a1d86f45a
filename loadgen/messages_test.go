package loadgen

import (
	"errors"
	"strings"
	"testing"
)

func TestParseServerMessage(t *testing.T) {
	for _, tc := range []struct {
		name, raw string
		wantType  string
		bad       bool
	}{
		{"offer", `{"type":"offer","sdp":"v=0","connection_id":"X","config":{"iceServers":[]}}`, "offer", false},
		{"re-offer", `{"type":"re-offer","sdp":"v=0"}`, "re-offer", false},
		{"notify", `{"type":"notify","event_type":"connection.created","connection_id":"X","data":[]}`, "notify", false},
		{"ping", `{"type":"ping","stats":false}`, "ping", false},
		{"unknown type is fine", `{"type":"switched"}`, "switched", false},
		{"not json", `{"type":`, "", true},
		{"no type", `{"sdp":"v=0"}`, "", true},
		{"offer without sdp", `{"type":"offer","connection_id":"X"}`, "", true},
		{"offer without connection id", `{"type":"offer","sdp":"v=0"}`, "", true},
		{"re-offer without sdp", `{"type":"re-offer"}`, "", true},
		{"wrong field type", `{"type":"offer","sdp":5}`, "", true},
		{"too large", `{"type":"push","data":"` + strings.Repeat("x", maxMessageBytes) + `"}`, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := parseServerMessage([]byte(tc.raw))
			if tc.bad {
				if !errors.Is(err, errMalformed) {
					t.Fatalf("err = %v, want errMalformed", err)
				}
				return
			}
			if err != nil || m.Type != tc.wantType {
				t.Fatalf("got %+v, %v; want type %q", m, err, tc.wantType)
			}
		})
	}
}

func FuzzParseServerMessage(f *testing.F) {
	f.Add([]byte(`{"type":"offer","sdp":"v=0","connection_id":"X"}`))
	f.Add([]byte(`{"type":"notify","event_type":"connection.created","connection_id":"X"}`))
	f.Add([]byte(`{"type":"re-offer","sdp":""}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := parseServerMessage(raw)
		if err != nil {
			return
		}
		if m.Type == "" || (m.Type == "offer" && (m.SDP == "" || m.ConnectionID == "")) {
			t.Fatalf("accepted an unusable message: %+v", m)
		}
	})
}
