package vp9

// maxFrames is the most frames a VP9 superframe holds (VP9 bitstream
// specification Annex B).
const maxFrames = 8

// superframeIndex reads the superframe index at the end of data (Annex B).
// It returns the number of frames and the index length, or 0, 0 when data
// does not end in a consistent index (then it is a single frame). sizes
// receives the frame sizes.
func superframeIndex(data []byte, sizes *[maxFrames]int) (frames, indexLen int) {
	if len(data) == 0 {
		return 0, 0
	}
	marker := data[len(data)-1]
	if marker&0xe0 != 0xc0 {
		return 0, 0
	}
	frames = int(marker&0x07) + 1
	mag := int(marker>>3&0x03) + 1
	indexLen = 2 + mag*frames
	if len(data) < indexLen || data[len(data)-indexLen] != marker {
		return 0, 0
	}
	idx := data[len(data)-indexLen+1:]
	total := 0
	for i := range frames {
		size := 0
		for j := range mag {
			size |= int(idx[i*mag+j]) << (8 * j)
		}
		sizes[i] = size
		total += size
	}
	if total != len(data)-indexLen {
		return 0, 0
	}
	return frames, indexLen
}

// appendSuperframeIndex appends the index of a superframe made of frames of
// the given sizes, using the fewest bytes per size that fit the largest.
func appendSuperframeIndex(dst []byte, sizes []int) []byte {
	largest := 0
	for _, s := range sizes {
		largest = max(largest, s)
	}
	mag := 1
	for mag < 4 && largest >= 1<<(8*mag) {
		mag++
	}
	marker := byte(0xc0 | (mag-1)<<3 | (len(sizes) - 1))
	dst = append(dst, marker)
	for _, s := range sizes {
		for j := range mag {
			dst = append(dst, byte(s>>(8*j)))
		}
	}
	return append(dst, marker)
}
