package h264

import (
	"bytes"
	"fmt"

	"github.com/kiroku-sfu/kiroku/mux"
	"github.com/kiroku-sfu/kiroku/mux/codec/internal/bits"
)

// paramSets remembers the SPS and PPS NAL units of one stream by id and the
// configuration built from them. Storing an unchanged parameter set costs a
// comparison and no allocation, so streams that repeat SPS/PPS before every
// IDR (as WebRTC senders do) reuse one VideoConfig.
type paramSets struct {
	sps     [maxSPSID + 1][]byte
	spsInfo [maxSPSID + 1]SPS
	pps     [maxPPSID + 1][]byte
	ppsSPS  [maxPPSID + 1]uint8 // seq_parameter_set_id of each PPS

	cfg    *mux.VideoConfig // last built configuration, nil when stale
	cfgSPS uint8            // the SPS cfg was built for
}

// putSPS parses and stores an SPS NAL unit.
func (p *paramSets) putSPS(nalu []byte) error {
	if len(nalu) > maxParamSetLen {
		return fmt.Errorf("h264: SPS of %d bytes: %w", len(nalu), errRecordLength)
	}
	s, err := ParseSPS(nalu)
	if err != nil {
		return err
	}
	if bytes.Equal(p.sps[s.ID], nalu) {
		return nil
	}
	p.sps[s.ID] = append(p.sps[s.ID][:0], nalu...)
	p.spsInfo[s.ID] = s
	p.cfg = nil
	return nil
}

// putPPS reads the ids of a PPS NAL unit and stores it.
func (p *paramSets) putPPS(nalu []byte) error {
	if len(nalu) > maxParamSetLen {
		return fmt.Errorf("h264: PPS of %d bytes: %w", len(nalu), errRecordLength)
	}
	r := bits.NewReader(nalu[1:])
	ppsID := r.UEMax(maxPPSID, errSPSValue)
	spsID := r.UEMax(maxSPSID, errSPSValue)
	if err := r.Err(); err != nil {
		return fmt.Errorf("h264: parse PPS: %w", err)
	}
	if bytes.Equal(p.pps[ppsID], nalu) {
		return nil
	}
	p.pps[ppsID] = append(p.pps[ppsID][:0], nalu...)
	p.ppsSPS[ppsID] = uint8(spsID)
	p.cfg = nil
	return nil
}

// spsFor returns the SPS that the PPS ppsID refers to, if both are known.
func (p *paramSets) spsFor(ppsID uint32) (*SPS, bool) {
	if ppsID > maxPPSID || len(p.pps[ppsID]) == 0 {
		return nil, false
	}
	id := p.ppsSPS[ppsID]
	if len(p.sps[id]) == 0 {
		return nil, false
	}
	return &p.spsInfo[id], true
}

// config returns the configuration for a keyframe whose slices use PPS
// ppsID: the size from the active SPS and an avcC record holding that SPS
// and every PPS that refers to it. The result is shared between keyframes
// until a parameter set changes.
func (p *paramSets) config(ppsID uint32) (*mux.VideoConfig, error) {
	sps, ok := p.spsFor(ppsID)
	if !ok {
		return nil, fmt.Errorf("h264: keyframe uses PPS %d: %w", ppsID, ErrMissingParameterSets)
	}
	if p.cfg != nil && p.cfgSPS == sps.ID {
		return p.cfg, nil
	}
	var ppss [][]byte
	for id, nalu := range p.pps {
		if len(nalu) > 0 && p.ppsSPS[id] == sps.ID {
			ppss = append(ppss, nalu)
		}
	}
	rec, err := ConfigRecord([][]byte{p.sps[sps.ID]}, ppss)
	if err != nil {
		return nil, err
	}
	p.cfg = &mux.VideoConfig{Width: sps.Width, Height: sps.Height, Record: rec}
	p.cfgSPS = sps.ID
	return p.cfg, nil
}
