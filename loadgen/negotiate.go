package loadgen

import (
	"fmt"

	"github.com/pion/webrtc/v4"
)

// answer applies a server offer and replies with typ ("answer" or
// "re-answer"). A publisher attaches its track after the first offer, as
// the Sora SDKs do, so it lands on the transceiver the server offered.
func (c *Client) answer(typ, sdp string) error {
	if err := c.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sdp}); err != nil {
		return fmt.Errorf("loadgen: apply %s offer: %w", typ, err)
	}
	var video *webrtc.RTPSender
	if typ == "answer" {
		for _, tr := range []*webrtc.TrackLocalStaticRTP{c.track, c.audio} {
			if tr == nil {
				continue
			}
			s, err := c.pc.AddTrack(tr)
			if err != nil {
				return fmt.Errorf("loadgen: add track: %w", err)
			}
			if tr == c.track {
				video = s
			}
		}
		if c.layers != nil {
			if err := c.layers.attach(video, sdp); err != nil {
				return fmt.Errorf("loadgen: %w", err)
			}
		}
	}
	ans, err := c.pc.CreateAnswer(nil)
	if err != nil {
		return fmt.Errorf("loadgen: create %s: %w", typ, err)
	}
	if err := c.pc.SetLocalDescription(ans); err != nil {
		return fmt.Errorf("loadgen: set %s: %w", typ, err)
	}
	if video != nil && c.layers != nil {
		c.layers.setMid(c.pc, video)
	}
	answer := ans.SDP
	if c.layers != nil {
		answer = withoutRecvLayers(answer)
	}
	c.log.Debug("negotiated", "type", typ, "offer", sdp, "answer", answer)
	if err := c.write(sdpMessage{Type: typ, SDP: answer}); err != nil {
		return err
	}
	if typ == "answer" {
		return c.flushCandidates()
	}
	return nil
}

// trickle sends a gathered candidate, or holds it until the answer is out
// (the server cannot use a candidate before it has the answer).
func (c *Client) trickle(cand *webrtc.ICECandidate) {
	if cand == nil {
		return // end of gathering: the SDK sends nothing for it
	}
	init := cand.ToJSON()
	c.mu.Lock()
	if !c.answered {
		c.pending = append(c.pending, init)
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	c.sendCandidate(init)
}

func (c *Client) flushCandidates() error {
	c.mu.Lock()
	c.answered = true
	pending := c.pending
	c.pending = nil
	c.mu.Unlock()
	for _, init := range pending {
		c.sendCandidate(init)
	}
	return nil
}

func (c *Client) sendCandidate(init webrtc.ICECandidateInit) {
	msg := candidateMessage{Type: "candidate", Candidate: init.Candidate, SDPMid: init.SDPMid,
		SDPMLineIndex: init.SDPMLineIndex, UsernameFragment: init.UsernameFragment}
	if err := c.write(msg); err != nil {
		c.log.Debug("send candidate", "err", err)
	}
}
