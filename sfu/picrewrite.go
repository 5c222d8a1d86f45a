package sfu

// picRewriter renumbers the VP8/VP9 picture numbers of one receiver's
// stream (see picid.go): offsets per field, fixed at each layer move so
// that the new layer goes on one step after the last values sent. The
// width of the picture IDs sent is that of the first one (15 bits from
// every browser); a layer sending the other width is widened or narrowed.
// It is not safe for concurrent use; its layerSelector's owner serialises
// calls.
type picRewriter struct {
	codec picCodec
	width int // bytes of the picture IDs sent: 1 or 2; 0 before the first

	picOff         uint16 // added to the current layer's (extended) picture ID
	tl0Off, keyOff uint8

	// The current layer's 7-bit picture IDs, unwrapped to 16 bits.
	have7 bool
	last7 uint8
	ext7  uint16

	// The newest values sent.
	hasPic, hasTL0, hasKey bool
	lastPic                uint16
	lastTL0, lastKey       uint8

	malformed uint64 // payloads whose descriptor could not be read
}

// start fixes the offsets for a layer whose first packet sent is first:
// each number one step after the last one sent (none sent: unchanged).
func (r *picRewriter) start(first []byte) {
	r.picOff, r.tl0Off, r.keyOff, r.have7 = 0, 0, 0, false
	if r.codec == picNone {
		return
	}
	d, err := parseDescriptor(r.codec, first)
	if err != nil {
		return // counted when the packet is rewritten
	}
	if d.picLen > 0 {
		in := r.extend(d.picture(first), d.picLen, true)
		if r.hasPic {
			r.picOff = r.lastPic + 1 - in
		}
	}
	if d.tl0At >= 0 && r.hasTL0 {
		r.tl0Off = r.lastTL0 + 1 - first[d.tl0At]
	}
	if d.keyAt >= 0 && r.hasKey {
		r.keyOff = r.lastKey + 1 - first[d.keyAt]&0x1f
	}
}

// extend maps a picture ID of the current layer to 16 bits: 15-bit ones
// as they are, 7-bit ones unwrapped from the last one (commit: that one
// becomes the last; a retransmission does not move it).
func (r *picRewriter) extend(v uint16, width int, commit bool) uint16 {
	if width == 2 {
		return v
	}
	ext := v
	if r.have7 {
		d := int16((uint8(v) - r.last7) & 0x7f)
		if d >= 64 {
			d -= 128
		}
		ext = r.ext7 + uint16(d)
	}
	if commit {
		r.have7, r.last7, r.ext7 = true, uint8(v), ext
	}
	return ext
}

// rewrite returns payload with its picture numbers renumbered: payload
// itself when nothing changes, else a copy in *buf (grown as needed; nil
// buf: a new slice). newest says the packet is the newest sent, whose
// values the next layer goes on from. A descriptor that cannot be read is
// counted and its payload sent unchanged.
func (r *picRewriter) rewrite(payload []byte, buf *[]byte, newest bool) []byte {
	if r.codec == picNone {
		return payload
	}
	d, err := parseDescriptor(r.codec, payload)
	if err != nil {
		r.malformed++
		return payload
	}
	if d.picLen > 0 && r.width == 0 {
		r.width = d.picLen
	}
	var pic uint16
	if d.picLen > 0 {
		pic = (r.extend(d.picture(payload), d.picLen, newest) + r.picOff) & r.picMask()
	}
	var tl0, key uint8
	if d.tl0At >= 0 {
		tl0 = payload[d.tl0At] + r.tl0Off
	}
	if d.keyAt >= 0 {
		key = (payload[d.keyAt] + r.keyOff) & 0x1f
	}
	if newest {
		r.remember(d, pic, tl0, key)
	}
	if r.picOff == 0 && r.tl0Off == 0 && r.keyOff == 0 && (d.picLen == 0 || d.picLen == r.width) {
		return payload
	}
	return r.write(payload, d, buf, pic, tl0, key)
}

func (r *picRewriter) picMask() uint16 {
	if r.width == 1 {
		return 0x7f
	}
	return 0x7fff
}

// remember keeps the values of the newest packet sent.
func (r *picRewriter) remember(d descriptor, pic uint16, tl0, key uint8) {
	if d.picLen > 0 {
		r.hasPic, r.lastPic = true, pic
	}
	if d.tl0At >= 0 {
		r.hasTL0, r.lastTL0 = true, tl0
	}
	if d.keyAt >= 0 {
		r.hasKey, r.lastKey = true, key
	}
}

// write copies payload into *buf with the new values (the picture ID in
// r.width bytes).
func (r *picRewriter) write(p []byte, d descriptor, buf *[]byte, pic uint16, tl0, key uint8) []byte {
	shift := 0
	if d.picLen > 0 {
		shift = r.width - d.picLen
	}
	n := len(p) + shift
	var out []byte
	if buf == nil {
		out = make([]byte, n)
	} else {
		if cap(*buf) < n {
			*buf = make([]byte, n, n+n/4)
		}
		out = (*buf)[:n]
	}
	if d.picLen == 0 {
		copy(out, p)
	} else {
		copy(out, p[:d.picAt])
		copy(out[d.picAt+r.width:], p[d.picAt+d.picLen:])
		if r.width == 2 {
			out[d.picAt], out[d.picAt+1] = 0x80|byte(pic>>8), byte(pic)
		} else {
			out[d.picAt] = byte(pic) & 0x7f
		}
	}
	moved := func(at int) int {
		if d.picLen > 0 && at > d.picAt {
			return at + shift
		}
		return at
	}
	if d.tl0At >= 0 {
		out[moved(d.tl0At)] = tl0
	}
	if d.keyAt >= 0 {
		i := moved(d.keyAt)
		out[i] = out[i]&^0x1f | key
	}
	return out
}
