package sfu

// layerOff is the layer of a spotlight viewer that gets none of a
// publisher's video (rid "none"): its selector pauses.
const layerOff = -2

// parseSpotlightRID maps a spotlight rid ("none", "r0", "r1", "r2") to a
// layer, layerOff for "none".
func parseSpotlightRID(rid string) (int, error) {
	if rid == "none" {
		return layerOff, nil
	}
	return ParseRID(rid)
}

// spotlightRID is the rid of a layer, "none" for layerOff.
func spotlightRID(layer int) string {
	if layer == layerOff {
		return "none"
	}
	return simulcastRIDs[layer]
}

// setLayer makes layer the selector's target, or pauses it for layerOff.
// A paused selector sends nothing; when given a layer again it resumes at
// that layer's next keyframe with sequence numbers, timestamps and
// picture numbers going on from the last packet sent, as at a move
// between layers (a hole of one sequence number when the pause cut a
// frame short), so that the viewer's decoder restarts cleanly.
func (s *layerSelector) setLayer(layer int) {
	if layer == layerOff {
		if !s.paused {
			s.paused, s.resuming = true, false
			s.pending.reset()
		}
		return
	}
	if s.paused {
		s.paused, s.resuming = false, true
	}
	s.setTarget(layer)
}
