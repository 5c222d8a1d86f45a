package depack

import (
	"slices"
	"testing"
)

func TestSeqTracker(t *testing.T) {
	tests := []struct {
		name     string
		seqs     []uint16
		ext      []int64
		verdicts []seqVerdict
	}{
		{"in order", []uint16{10, 11, 12}, []int64{10, 11, 12}, []seqVerdict{seqOK, seqOK, seqOK}},
		{"forward wrap", []uint16{65534, 65535, 0, 1}, []int64{65534, 65535, 65536, 65537}, nil},
		{"reordered across the wrap", []uint16{0, 65535, 1}, []int64{0, -1, 1}, nil},
		{"reordered before the first", []uint16{5, 3, 4, 6}, []int64{5, 3, 4, 6}, nil},
		{"loss within the dropout", []uint16{1, 2001}, []int64{1, 2001}, nil},
		{"stray far packet", []uint16{1, 30000, 2}, []int64{1, 0, 2}, []seqVerdict{seqOK, seqProbation, seqOK}},
		{"confirmed restart", []uint16{1, 30000, 30001}, []int64{1, 0, 0}, []seqVerdict{seqOK, seqProbation, seqRestart}},
		{"far behind", []uint16{500, 100, 101}, []int64{500, 0, 0}, []seqVerdict{seqOK, seqProbation, seqRestart}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := seqTracker{maxMisorder: 128}
			var ext []int64
			var verdicts []seqVerdict
			for _, q := range tc.seqs {
				e, v := s.extend(q)
				ext, verdicts = append(ext, e), append(verdicts, v)
			}
			if !slices.Equal(ext, tc.ext) || tc.verdicts != nil && !slices.Equal(verdicts, tc.verdicts) {
				t.Errorf("extended %v %v, want %v %v", ext, verdicts, tc.ext, tc.verdicts)
			}
		})
	}
}

func TestTSTracker(t *testing.T) {
	tests := []struct {
		name string
		ts   []uint32
		want []int64
	}{
		{"in order", []uint32{1000, 4000, 7000}, []int64{0, 3000, 6000}},
		{"forward wrap", []uint32{1<<32 - 3000, 0, 3000}, []int64{0, 3000, 6000}},
		{"backward near the start", []uint32{1000, 1<<32 - 2000, 4000}, []int64{0, -3000, 3000}},
		{"reordered across the wrap", []uint32{2000, 1<<32 - 1000, 5000}, []int64{0, -3000, 3000}},
		{"DTX jump", []uint32{0, 960, 48960}, []int64{0, 960, 48960}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var tr tsTracker
			var got []int64
			for _, ts := range tc.ts {
				got = append(got, tr.extend(ts))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("extended %v, want %v", got, tc.want)
			}
		})
	}
}
