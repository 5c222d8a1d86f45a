package nal

import (
	"bytes"
	"errors"
	"testing"
)

var (
	errTestTruncated = errors.New("test: truncated")
	errTestRejected  = errors.New("test: rejected")
)

// step is one call on a Builder: a whole unit, an aggregation payload or a
// fragment.
type step struct {
	unit, aggregated []byte
	fu               *Fragment
}

// keepAllBut drops NAL units whose first byte is 0xdd and fails on 0xee.
func keepAllBut(n []byte) (bool, error) {
	switch n[0] {
	case 0xdd:
		return false, nil
	case 0xee:
		return false, errTestRejected
	}
	return true, nil
}

func TestBuilder(t *testing.T) {
	h2 := Format{HeaderLen: 2, ErrTruncated: errTestTruncated}
	tests := []struct {
		name    string
		format  Format
		steps   []step
		want    []byte
		wantErr error
		open    bool // a fragmented unit is unfinished at the end
	}{
		{name: "single unit", format: h2, steps: []step{{unit: []byte{1, 2, 3}}},
			want: []byte{0, 0, 0, 3, 1, 2, 3}},
		{name: "dropped unit", format: h2, steps: []step{{unit: []byte{0xdd, 2}}, {unit: []byte{1, 2}}},
			want: []byte{0, 0, 0, 2, 1, 2}},
		{name: "aggregated", format: h2, steps: []step{{aggregated: []byte{0, 2, 1, 2, 0, 3, 4, 5, 6}}},
			want: []byte{0, 0, 0, 2, 1, 2, 0, 0, 0, 3, 4, 5, 6}},
		{name: "empty aggregation", format: h2, steps: []step{{aggregated: []byte{}}}, wantErr: errTestTruncated},
		{name: "aggregated size cut", format: h2, steps: []step{{aggregated: []byte{0, 2, 1, 2, 0}}},
			wantErr: errTestTruncated},
		{name: "aggregated unit cut", format: h2, steps: []step{{aggregated: []byte{0, 3, 1, 2}}},
			wantErr: errTestTruncated},
		{name: "aggregated unit shorter than a header", format: h2, steps: []step{{aggregated: []byte{0, 1, 1}}},
			wantErr: errTestTruncated},
		{name: "aggregated empty unit", format: Format{HeaderLen: 1, ErrTruncated: errTestTruncated},
			steps: []step{{aggregated: []byte{0, 0, 0, 1, 1}}}, wantErr: ErrEmpty},
		{name: "aggregated unit rejected", format: h2, steps: []step{{aggregated: []byte{0, 2, 0xee, 1}}},
			wantErr: errTestRejected},
		{name: "fragments", format: h2, steps: []step{
			{fu: &Fragment{Type: 5, Start: true, Header: [2]byte{0xa, 0xb}, Data: []byte{1}}},
			{fu: &Fragment{Type: 5, Data: []byte{2}}},
			{fu: &Fragment{Type: 5, End: true, Data: []byte{3}}},
		}, want: []byte{0, 0, 0, 5, 0xa, 0xb, 1, 2, 3}},
		{name: "one-byte header from a start and end fragment", format: Format{HeaderLen: 1},
			steps: []step{{fu: &Fragment{Type: 5, Start: true, End: true, Header: [2]byte{0xa, 0xb}, Data: []byte{1}}}},
			want:  []byte{0, 0, 0, 2, 0xa, 1}},
		{name: "dropped fragmented unit", format: h2, steps: []step{
			{unit: []byte{1, 2}},
			{fu: &Fragment{Type: 5, Start: true, Header: [2]byte{0xdd, 0}, Data: []byte{1}}},
			{fu: &Fragment{Type: 5, End: true, Data: []byte{2}}},
		}, want: []byte{0, 0, 0, 2, 1, 2}},
		{name: "unfinished", format: h2, steps: []step{
			{fu: &Fragment{Type: 5, Start: true, Header: [2]byte{1, 1}, Data: []byte{1}}},
		}, want: []byte{0, 0, 0, 0, 1, 1, 1}, open: true},
		{name: "no start", format: h2, steps: []step{{fu: &Fragment{Type: 5, End: true, Data: []byte{1}}}},
			wantErr: ErrFUNoStart},
		{name: "type changes", format: h2, steps: []step{
			{fu: &Fragment{Type: 5, Start: true, Header: [2]byte{1, 1}}},
			{fu: &Fragment{Type: 1, End: true}},
		}, wantErr: ErrFUNoStart},
		{name: "restarted", format: h2, steps: []step{
			{fu: &Fragment{Type: 5, Start: true, Header: [2]byte{1, 1}}},
			{fu: &Fragment{Type: 5, Start: true, Header: [2]byte{1, 1}}},
		}, wantErr: ErrFUInterrupted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := NewBuilder([]byte("xx"), tt.format)
			var err error
			for _, s := range tt.steps {
				switch {
				case s.fu != nil:
					err = b.AppendFragment(*s.fu, keepAllBut)
				case s.aggregated != nil:
					err = b.AppendAggregated(s.aggregated, keepAllBut)
				default:
					err = b.AppendUnit(s.unit, keepAllBut)
				}
				if err != nil {
					break
				}
			}
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := b.Bytes(); !bytes.Equal(got, append([]byte("xx"), tt.want...)) {
				t.Fatalf("built %x, want xx then %x", got, tt.want)
			}
			if b.Fragmenting() != tt.open {
				t.Fatalf("Fragmenting %v, want %v", b.Fragmenting(), tt.open)
			}
		})
	}
}
