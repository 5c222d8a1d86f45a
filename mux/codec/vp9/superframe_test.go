package vp9

import (
	"bytes"
	"testing"
)

func TestSuperframeIndex(t *testing.T) {
	tests := []struct {
		name  string
		sizes []int
		index []byte
	}{
		{"two small", []int{3, 2}, []byte{0xc1, 3, 2, 0xc1}},
		{"two-byte sizes", []int{300, 1}, []byte{0xc9, 0x2c, 0x01, 0x01, 0x00, 0xc9}},
		{"four-byte sizes", []int{1 << 24, 1, 2}, []byte{0xda, 0, 0, 0, 1, 1, 0, 0, 0, 2, 0, 0, 0, 0xda}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			idx := appendSuperframeIndex(nil, tt.sizes)
			if !bytes.Equal(idx, tt.index) {
				t.Fatalf("index = % x, want % x", idx, tt.index)
			}
			total := 0
			for _, s := range tt.sizes {
				total += s
			}
			data := append(make([]byte, total), idx...)
			var sizes [maxFrames]int
			n, l := superframeIndex(data, &sizes)
			if n != len(tt.sizes) || l != len(idx) || !equalInts(sizes[:n], tt.sizes) {
				t.Fatalf("parsed %d frames %v, index %d", n, sizes[:n], l)
			}
			if n, _ := superframeIndex(data[1:], &sizes); n != 0 {
				t.Fatal("inconsistent sizes accepted")
			}
		})
	}
}

func equalInts(a, b []int) bool {
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
