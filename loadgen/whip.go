package loadgen

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/pion/webrtc/v4"
)

// WHIP: a publishing client may offer over HTTP (RFC 9725) instead of the
// WebSocket signaling: it POSTs its offer, with every candidate inside,
// to ClientConfig.URL and applies the answer; Close DELETEs the resource.

// maxAnswerBytes bounds a WHIP answer.
const maxAnswerBytes = 1 << 20

// startWHIP publishes by WHIP and waits until the PeerConnection is
// connected.
func (c *Client) startWHIP(ctx context.Context) error {
	if c.track == nil || c.layers != nil {
		return fmt.Errorf("loadgen: a WHIP client publishes one stream (sendonly, no simulcast)")
	}
	for _, tr := range []*webrtc.TrackLocalStaticRTP{c.audio, c.track} {
		if tr == nil {
			continue
		}
		t, err := c.pc.AddTransceiverFromTrack(tr, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		if err != nil {
			return fmt.Errorf("loadgen: add track: %w", err)
		}
		if tr == c.track {
			// An encoder offers the one codec it encodes, as OBS does.
			if err := t.SetCodecPreferences([]webrtc.RTPCodecParameters{videoCodecs[c.cfg.VideoCodec]}); err != nil {
				return fmt.Errorf("loadgen: offer %s: %w", c.cfg.VideoCodec, err)
			}
		}
	}
	offer, err := c.pc.CreateOffer(nil)
	if err != nil {
		return fmt.Errorf("loadgen: create offer: %w", err)
	}
	gathered := webrtc.GatheringCompletePromise(c.pc)
	if err := c.pc.SetLocalDescription(offer); err != nil {
		return fmt.Errorf("loadgen: set offer: %w", err)
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return fmt.Errorf("loadgen: gather candidates: %w", ctx.Err())
	}
	answer, err := c.postOffer(ctx, c.pc.LocalDescription().SDP)
	if err != nil {
		return err
	}
	if err := c.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		return fmt.Errorf("loadgen: apply WHIP answer: %w", err)
	}
	c.startRTCPDrain()
	close(c.created) // nothing announces a WHIP connection to itself
	return c.awaitConnected(ctx)
}

// postOffer sends the offer and returns the answer; it notes the
// resource's URL and the connection_id the server tells.
func (c *Client) postOffer(ctx context.Context, offer string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.URL, strings.NewReader(offer))
	if err != nil {
		return "", fmt.Errorf("loadgen: WHIP request: %w", err)
	}
	req.Header.Set("Content-Type", "application/sdp")
	if c.cfg.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.cfg.Token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("loadgen: WHIP POST: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	if err != nil {
		return "", fmt.Errorf("loadgen: read WHIP answer: %w", err)
	}
	if resp.StatusCode != http.StatusCreated {
		return "", fmt.Errorf("loadgen: WHIP POST: %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	loc, err := resp.Location()
	if err != nil {
		return "", fmt.Errorf("loadgen: WHIP answer without Location: %w", err)
	}
	c.resource = loc
	c.id = resp.Header.Get("Sora-Connection-Id")
	return string(body), nil
}

// Resource is a WHIP client's resource URL; empty for other clients.
func (c *Client) Resource() string {
	if c.resource == nil {
		return ""
	}
	return c.resource.String()
}

// deleteResource ends a WHIP client's resource.
func (c *Client) deleteResource() error {
	if c.resource == nil {
		return nil
	}
	req, err := http.NewRequest(http.MethodDelete, c.resource.String(), nil)
	if err != nil {
		return fmt.Errorf("loadgen: WHIP DELETE: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("loadgen: WHIP DELETE: %w", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNotFound {
		return fmt.Errorf("loadgen: WHIP DELETE: %s", resp.Status)
	}
	return nil
}
