package webm

import (
	"errors"
	"fmt"
)

// clusterScan is the state of one cluster being scanned.
type clusterScan struct {
	info   clusterInfo
	haveTC bool
	end    int64 // end of the last complete child
}

// scanCluster walks the cluster at off. It returns where scanning goes on
// and whether the media ends inside this cluster (a crash cut it, or its
// tail is not media); a cluster without blocks is dropped entirely.
func (s *scanner) scanCluster(off int64, h header) (next int64, stop bool, err error) {
	if h.hdrLen != 4+size8Len {
		return off, true, fmt.Errorf("cluster at %d without an 8-byte size: %w", off, errNotOurs)
	}
	if s.clusters >= maxClusters {
		return off, true, fmt.Errorf("more than %d clusters: %w", maxClusters, errNotOurs)
	}
	data := off + int64(h.hdrLen)
	limit := s.size
	if !h.unknown && h.size <= uint64(s.size-data) {
		limit = data + int64(h.size)
	}
	c := clusterScan{info: clusterInfo{off: off}, end: data}
	complete, err := s.scanChildren(&c, limit, h.unknown)
	if err != nil {
		return off, true, err
	}
	switch {
	case c.info.blocks == 0:
		return off, true, nil
	case !h.unknown && !complete && limit < s.size:
		return off, true, fmt.Errorf("damaged cluster at %d followed by more data: %w", off, errNotOurs)
	}
	s.clusters++
	if size := uint64(c.end - data); h.unknown || size != h.size {
		b := make([]byte, size8Len)
		putSize8(b, size)
		s.patches = append(s.patches, patch{"cluster size", b, off + 4})
	}
	if p, ok := c.info.cue(s.lay.segData); ok {
		s.cues = append(s.cues, p)
	}
	return c.end, !complete, nil
}

// scanChildren walks a cluster's children up to limit. It reports whether
// they ended cleanly: at limit, or, for a cluster of unknown size, at the
// next Cluster or Cues. Inside an unknown-size cluster, a child that is cut
// off or not a cluster child marks the end of the media.
func (s *scanner) scanChildren(c *clusterScan, limit int64, unknown bool) (bool, error) {
	for p := c.end; p < limit; p = c.end {
		h, b, err := s.headerAt(p)
		if isTail(err) {
			return false, nil
		} else if err != nil {
			return false, err
		}
		if h.id == idCluster || h.id == idCues {
			return unknown, nil
		}
		if h.unknown || h.size > uint64(limit-p-int64(h.hdrLen)) {
			return false, nil
		}
		switch h.id {
		case idTimecode:
			if c.haveTC || h.size == 0 || h.size > 8 || len(b) < h.hdrLen+int(h.size) {
				return false, fmt.Errorf("bad cluster Timecode at %d: %w", p, errNotOurs)
			}
			c.info.tc = int64(readUint(b[h.hdrLen : h.hdrLen+int(h.size)]))
			c.haveTC = true
		case idSimpleBlock:
			if err := s.scanBlock(c, p, h, b); err != nil {
				return false, err
			}
		case idVoid:
		default:
			if unknown {
				return false, nil
			}
			return false, fmt.Errorf("element %#x in cluster at %d: %w", h.id, p, errNotOurs)
		}
		c.end = p + int64(h.hdrLen) + int64(h.size)
	}
	return c.end == limit, nil
}

// errBadBlock reports a SimpleBlock this package would not have written.
var errBadBlock = errors.New("webm: bad SimpleBlock")

// scanBlock checks one SimpleBlock's header and counts it.
func (s *scanner) scanBlock(c *clusterScan, p int64, h header, b []byte) error {
	if !c.haveTC || h.size < 4 || len(b) < h.hdrLen+4 {
		return fmt.Errorf("%w at %d: %w", errBadBlock, p, errNotOurs)
	}
	hb := b[h.hdrLen : h.hdrLen+4]
	track := hb[0] & 0x7F
	if hb[0]&0x80 == 0 || !s.hasTrack(track) || hb[3]&0x06 != 0 {
		return fmt.Errorf("%w at %d (track %#x, flags %#x): %w", errBadBlock, p, hb[0], hb[3], errNotOurs)
	}
	rel := readInt16(hb[1:3])
	key := hb[3]&0x80 != 0
	c.info.addBlock(track, rel, key)
	s.ends[track-1].add(c.info.tc + rel)
	if track == audioTrack {
		s.stats.AudioFrames++
		return nil
	}
	s.stats.VideoFrames++
	if key {
		s.stats.Keyframes++
	}
	return nil
}
