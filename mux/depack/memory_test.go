package depack

import (
	"bytes"
	"testing"
)

// bigFrame returns one video frame of n packets of size bytes each.
func (g *gen) bigFrame(n, size int, flags byte) []input {
	var out []input
	for i := range n {
		p := bytes.Repeat([]byte{g.frame}, size)
		p[0] = 0
		if i == 0 {
			p[0] = flagStart | flags
		}
		out = append(out, g.packet(p, i == n-1))
	}
	g.frame++
	g.ts += 3000
	return out
}

// ringBuffers counts the payload buffers the ring keeps, held or spare.
func ringBuffers(r *ring) int {
	n := len(r.spares)
	for _, s := range r.slots {
		if s.payload != nil {
			n++
		}
	}
	return n
}

// TestRingKeepsFewBuffers checks that consumed packets give their payload
// buffers back, so the ring keeps buffers only for what it holds plus a
// few spares, in order or after a burst of reordering.
func TestRingKeepsFewBuffers(t *testing.T) {
	tests := []struct {
		name    string
		reorder int // packets sent before the one they follow
	}{
		{"in order", 0},
		{"burst held behind a late packet", 24},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := &gen{ssrc: 1}
			var ins []input
			for range 40 {
				ins = append(ins, g.bigFrame(5, 1200, flagKey)...)
			}
			if tt.reorder > 0 {
				late := ins[10]
				copy(ins[10:], ins[11:11+tt.reorder])
				ins[10+tt.reorder] = late
			}
			c, a, err := run(t, videoTrack, ins)
			if err != nil {
				t.Fatal(err)
			}
			if len(c.frames) != 40 || a.Stats().PacketsLost != 0 {
				t.Fatalf("%d frames, %d lost; want 40, 0", len(c.frames), a.Stats().PacketsLost)
			}
			if n := ringBuffers(&a.ring); n > maxSpares {
				t.Errorf("ring keeps %d payload buffers after draining, want at most %d", n, maxSpares)
			}
		})
	}
}

// TestFrameBuffersShrinkAfterKeyframe checks that a large keyframe's
// buffers are let go once ordinary frames follow it, and that frames stay
// intact across the change.
func TestFrameBuffersShrinkAfterKeyframe(t *testing.T) {
	g := &gen{ssrc: 1}
	ins := g.bigFrame(100, 1200, flagKey) // 120 KB
	for range 3 {
		ins = append(ins, g.bigFrame(4, 1200, 0)...)
	}
	c, a, err := run(t, videoTrack, ins)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.frames) != 4 || len(c.frames[0].Data) != 120000 || len(c.frames[3].Data) != 4800 {
		t.Fatalf("got %d frames, want a 120000-byte keyframe and three 4800-byte frames", len(c.frames))
	}
	for i, f := range c.frames {
		if f.Data[1] != byte(i) {
			t.Errorf("frame %d holds frame %d's bytes", i, f.Data[1])
		}
	}
	if c := cap(a.frame.data); c > shrinkAbove {
		t.Errorf("frame data buffer keeps %d bytes after small frames, want at most %d", c, shrinkAbove)
	}
	if c := cap(a.out); c > shrinkAbove {
		t.Errorf("output buffer keeps %d bytes after small frames, want at most %d", c, shrinkAbove)
	}
}
