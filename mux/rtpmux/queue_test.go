package rtpmux

import "testing"

// TestBufPoolBounds checks what the pool keeps: no buffer above
// maxPooledBuf, at most maxPooledBytes in all, at most maxPooled buffers.
func TestBufPoolBounds(t *testing.T) {
	tests := []struct {
		name      string
		size, put int
		wantKept  int
	}{
		{"small buffers up to the count", 100, maxPooled + 10, maxPooled},
		{"frame buffers up to the bytes", 16 << 10, 10, maxPooledBytes / (16 << 10)},
		{"keyframe buffers are let go", maxPooledBuf + 1, 3, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p bufPool
			for range tt.put {
				p.put(make([]byte, tt.size))
			}
			if len(p.free) != tt.wantKept {
				t.Errorf("kept %d buffers, want %d", len(p.free), tt.wantKept)
			}
			total := 0
			for _, b := range p.free {
				total += cap(b)
			}
			if total != p.bytes || total > maxPooledBytes {
				t.Errorf("kept %d bytes (counted %d), want at most %d", total, p.bytes, maxPooledBytes)
			}
			for range tt.wantKept {
				got := p.copyOf([]byte("frame"))
				if string(got) != "frame" {
					t.Fatalf("copyOf = %q", got)
				}
			}
			if p.bytes != 0 || len(p.free) != 0 {
				t.Errorf("after taking every buffer: %d bytes in %d buffers left", p.bytes, len(p.free))
			}
		})
	}
}
