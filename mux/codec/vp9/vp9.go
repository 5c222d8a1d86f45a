// Package vp9 turns the RTP payloads of one VP9 picture (RFC 9628) into the
// frame a container stores, joining the spatial layers of an SVC picture
// into one superframe, and reads the stream parameters vpcC needs from key
// frame headers.
package vp9

import (
	"errors"
	"fmt"

	"github.com/kiroku-sfu/kiroku/mux"
)

// Errors returned for malformed pictures.
var (
	ErrNoPayloads    = errors.New("vp9: no payloads")
	ErrEmptyPayload  = errors.New("vp9: packet carries no frame data")
	ErrNotFrameStart = errors.New("vp9: first packet does not begin a base layer frame")
	ErrTooManyFrames = errors.New("vp9: picture holds more than 8 frames")
)

// Depacketizer implements mux.FrameDepacketizer for VP9. It keeps scratch
// space and the last configuration, so each RTP stream needs its own
// instance; a returned Config must not be modified.
type Depacketizer struct {
	config *mux.VideoConfig
	// layerEnd[i] is the end offset in dst of layer frame i.
	layerEnd [maxFrames]int
	sizes    [maxFrames]int
	sub      [maxFrames]int
}

// NewDepacketizer returns a VP9 depacketizer for one RTP stream.
func NewDepacketizer() *Depacketizer { return &Depacketizer{} }

var _ mux.FrameDepacketizer = (*Depacketizer)(nil)

// IsFrameStart reports whether payload begins a layer frame (B=1) of the
// base spatial layer, or of a stream without layer indices.
func (d *Depacketizer) IsFrameStart(payload []byte) bool {
	desc, err := ParseDescriptor(payload)
	return err == nil && desc.Begin && desc.SID == 0
}

// AppendFrame appends the picture carried by payloads to dst. A picture with
// one layer frame is appended unchanged; several spatial layer frames (each
// from a B packet to an E packet) are joined into one superframe, flattening
// any superframe a layer frame already was. Key frames carry a Config.
func (d *Depacketizer) AppendFrame(dst []byte, payloads [][]byte) ([]byte, mux.FrameInfo, error) {
	start := len(dst)
	out, ssW, ssH, err := d.appendLayers(dst, payloads)
	if err != nil {
		return dst[:start], mux.FrameInfo{}, err
	}
	info, err := d.frameInfo(out[start:], ssW, ssH)
	if err != nil {
		return dst[:start], mux.FrameInfo{}, err
	}
	return out, info, nil
}

// appendLayers appends every packet's data, records where each layer frame
// ends and joins several layer frames into a superframe. It returns the
// largest layer size any scalability structure announced.
func (d *Depacketizer) appendLayers(dst []byte, payloads [][]byte) ([]byte, int, int, error) {
	if len(payloads) == 0 {
		return dst, 0, 0, ErrNoPayloads
	}
	start, layers, ssW, ssH := len(dst), 0, 0, 0
	for i, p := range payloads {
		desc, err := ParseDescriptor(p)
		if err != nil {
			return dst, 0, 0, fmt.Errorf("vp9: packet %d: %w", i, err)
		}
		if desc.Size == len(p) {
			return dst, 0, 0, fmt.Errorf("vp9: packet %d: %w", i, ErrEmptyPayload)
		}
		if i == 0 && (!desc.Begin || desc.SID != 0) {
			return dst, 0, 0, ErrNotFrameStart
		}
		if desc.Begin {
			if layers == maxFrames {
				return dst, 0, 0, ErrTooManyFrames
			}
			layers++
		}
		if desc.SSWidth*desc.SSHeight > ssW*ssH {
			ssW, ssH = desc.SSWidth, desc.SSHeight
		}
		dst = append(dst, p[desc.Size:]...)
		d.layerEnd[layers-1] = len(dst)
	}
	if layers == 1 {
		return dst, ssW, ssH, nil
	}
	dst, err := d.joinLayers(dst, start, layers)
	return dst, ssW, ssH, err
}

// joinLayers rewrites the layer frames at dst[start:] in place into one
// superframe: the frames' bytes back to back, then the index.
func (d *Depacketizer) joinLayers(dst []byte, start, layers int) ([]byte, error) {
	w, n, lo := start, 0, start
	for i := range layers {
		data := dst[lo:d.layerEnd[i]]
		lo = d.layerEnd[i]
		k, indexLen := superframeIndex(data, &d.sub)
		if k == 0 {
			k, d.sub[0] = 1, len(data)
		}
		if n+k > maxFrames {
			return dst, ErrTooManyFrames
		}
		n += copy(d.sizes[n:], d.sub[:k])
		w += copy(dst[w:], data[:len(data)-indexLen])
	}
	return appendSuperframeIndex(dst[:w], d.sizes[:n]), nil
}

// frameInfo reads the first frame's header. On a key frame it builds the
// configuration; an announced larger spatial layer sets the picture size.
func (d *Depacketizer) frameInfo(picture []byte, ssW, ssH int) (mux.FrameInfo, error) {
	first := picture
	if k, _ := superframeIndex(picture, &d.sub); k > 0 {
		first = picture[:d.sub[0]]
	}
	h, err := ParseHeader(first)
	if err != nil {
		return mux.FrameInfo{}, err
	}
	if !h.Keyframe {
		return mux.FrameInfo{}, nil
	}
	cfg, err := configOf(h, ssW, ssH)
	if err != nil {
		return mux.FrameInfo{}, err
	}
	if !d.config.Equal(&cfg) {
		stored := cfg
		d.config = &stored
	}
	return mux.FrameInfo{Keyframe: true, Config: d.config}, nil
}

// configOf builds the vpcC-style configuration of a key frame.
func configOf(h Header, ssW, ssH int) (mux.VideoConfig, error) {
	chroma, ok := h.ChromaSubsampling()
	if !ok {
		return mux.VideoConfig{}, fmt.Errorf("vp9: 4:4:0 subsampling has no vpcC value: %w", mux.ErrUnsupported)
	}
	w, hgt := h.Width, h.Height
	if ssW*ssH > w*hgt {
		w, hgt = ssW, ssH
	}
	return mux.VideoConfig{
		Width:             w,
		Height:            hgt,
		Profile:           h.Profile,
		Level:             Level(w, hgt),
		BitDepth:          h.BitDepth,
		ChromaSubsampling: chroma,
		FullRange:         h.FullRange,
	}, nil
}
