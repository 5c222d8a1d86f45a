package h265

import (
	"bytes"
	"fmt"

	"github.com/kiroku-sfu/kiroku/mux"
	"github.com/kiroku-sfu/kiroku/mux/codec/internal/bits"
)

// paramSets remembers the VPS, SPS and PPS NAL units of one stream by id
// and the configuration built from them. Storing an unchanged parameter set
// costs a comparison and no allocation, so streams that repeat them before
// every IRAP picture reuse one VideoConfig.
type paramSets struct {
	vps     [maxVPSID + 1][]byte
	sps     [maxSPSID + 1][]byte
	spsInfo [maxSPSID + 1]SPS
	pps     [maxPPSID + 1][]byte
	ppsSPS  [maxPPSID + 1]uint8 // pps_seq_parameter_set_id of each PPS

	cfg    *mux.VideoConfig // last built configuration, nil when stale
	cfgSPS uint8            // the SPS cfg was built for
}

// store copies nalu into *slot unless it is already there, and reports
// whether it changed. Parameter sets too long for hvcC are refused.
func (p *paramSets) store(slot *[]byte, nalu []byte) (bool, error) {
	if len(nalu) > maxParamSetLen {
		return false, fmt.Errorf("h265: parameter set of %d bytes: %w", len(nalu), errRecordLength)
	}
	if bytes.Equal(*slot, nalu) {
		return false, nil
	}
	*slot = append((*slot)[:0], nalu...)
	p.cfg = nil
	return true, nil
}

func (p *paramSets) putVPS(nalu []byte) error {
	if len(nalu) < 3 {
		return fmt.Errorf("h265: parse VPS: %w", bits.ErrTruncated)
	}
	_, err := p.store(&p.vps[nalu[2]>>4], nalu)
	return err
}

func (p *paramSets) putSPS(nalu []byte) error {
	s, err := ParseSPS(nalu)
	if err != nil {
		return err
	}
	changed, err := p.store(&p.sps[s.ID], nalu)
	if changed {
		p.spsInfo[s.ID] = s
	}
	return err
}

func (p *paramSets) putPPS(nalu []byte) error {
	r := bits.NewReader(nalu[2:])
	ppsID := r.UEMax(maxPPSID, errSPSValue)
	spsID := r.UEMax(maxSPSID, errSPSValue)
	if err := r.Err(); err != nil {
		return fmt.Errorf("h265: parse PPS: %w", err)
	}
	changed, err := p.store(&p.pps[ppsID], nalu)
	if changed {
		p.ppsSPS[ppsID] = uint8(spsID)
	}
	return err
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
// ppsID: the size from the active SPS and an hvcC record holding its VPS,
// itself and every PPS that refers to it. The result is shared between
// keyframes until a parameter set changes.
func (p *paramSets) config(ppsID uint32) (*mux.VideoConfig, error) {
	sps, ok := p.spsFor(ppsID)
	if !ok || len(p.vps[sps.VPSID]) == 0 {
		return nil, fmt.Errorf("h265: keyframe uses PPS %d: %w", ppsID, ErrMissingParameterSets)
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
	rec, err := ConfigRecord([][]byte{p.vps[sps.VPSID]}, [][]byte{p.sps[sps.ID]}, ppss)
	if err != nil {
		return nil, err
	}
	p.cfg = &mux.VideoConfig{Width: sps.Width, Height: sps.Height, Record: rec}
	p.cfgSPS = sps.ID
	return p.cfg, nil
}
