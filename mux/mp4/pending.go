package mp4

// pendingSample is one sample of the fragment being collected.
type pendingSample struct {
	start int64 // decode time in track ticks
	size  uint32
	sync  bool
}

// pending holds one track's samples that are not yet on disk: their
// descriptions and their bytes, in order. The first track's buffer starts
// with headroom where the fragment's moof and mdat header are placed, so
// that the whole fragment goes out with one write and no extra copy.
type pending struct {
	samples []pendingSample
	buf     []byte // room bytes of headroom, then the samples' data
	room    int
	sdi     uint32 // sample description index (1-based) of every sample
}

// initialHeadroom fits the moof of a 2 s fragment of 60 fps video and
// 20 ms audio; a larger moof grows the headroom once.
const initialHeadroom = 4 << 10

func newPending(room int) pending {
	return pending{buf: make([]byte, room), room: room}
}

// data returns the samples' bytes.
func (p *pending) data() []byte { return p.buf[p.room:] }

func (p *pending) add(s pendingSample, data []byte) {
	p.samples = append(p.samples, s)
	p.buf = append(p.buf, data...)
}

func (p *pending) reset() {
	p.samples = p.samples[:0]
	p.buf = p.buf[:p.room]
}

// ensureRoom grows the headroom to at least n bytes, keeping the data.
func (p *pending) ensureRoom(n int) {
	if n <= p.room {
		return
	}
	room := 2 * n
	buf := make([]byte, room, room+cap(p.buf))
	p.buf, p.room = append(buf, p.data()...), room
}
