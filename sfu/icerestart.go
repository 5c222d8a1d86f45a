package sfu

import (
	"context"
	"fmt"
	"strings"

	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// ICECredentials are one side's ICE username fragment and password.
type ICECredentials struct {
	Ufrag, Pwd string
}

// RemoteICE returns the ICE credentials of the client's last offer of a
// client-offer connection (WHIP, WHEP); empty before the offer.
func (c *Connection) RemoteICE() ICECredentials {
	d := c.pc.CurrentRemoteDescription()
	if d == nil {
		return ICECredentials{}
	}
	return iceCredentialsOf(d.SDP)
}

// RestartICE restarts ICE for a client-offer connection whose client sent
// new credentials (a WHIP/WHEP PATCH): its last offer is applied again with
// them and its candidates, and the server's new credentials and every
// server candidate ("candidate:…") are returned.
func (c *Connection) RestartICE(ctx context.Context, remote ICECredentials, candidates []string) (ICECredentials, []string, error) {
	if c.clientOffer == "" || remote.Ufrag == "" || remote.Pwd == "" {
		return ICECredentials{}, nil, fmt.Errorf("ice restart: %w: not a client-offer connection, or no credentials", ErrInvalid)
	}
	cur := c.pc.CurrentRemoteDescription()
	if cur == nil {
		return ICECredentials{}, nil, fmt.Errorf("ice restart: %w: no offer answered yet", ErrInvalid)
	}
	offer, err := withICE(cur.SDP, remote, candidates)
	if err != nil {
		return ICECredentials{}, nil, err
	}
	if err := c.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return ICECredentials{}, nil, c.closedOr(fmt.Errorf("ice restart offer: %w", err))
	}
	answer, err := c.pc.CreateAnswer(nil)
	if err != nil {
		return ICECredentials{}, nil, c.closedOr(fmt.Errorf("ice restart answer: %w", err))
	}
	gathered := webrtc.GatheringCompletePromise(c.pc)
	if err := c.pc.SetLocalDescription(answer); err != nil {
		return ICECredentials{}, nil, c.closedOr(fmt.Errorf("ice restart answer: %w", err))
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return ICECredentials{}, nil, fmt.Errorf("gather candidates: %w", ctx.Err())
	}
	local := c.pc.LocalDescription().SDP
	return iceCredentialsOf(local), candidatesOf(local), nil
}

// withICE rewrites a description's ICE credentials (session and media
// level) and replaces its candidates.
func withICE(desc string, cred ICECredentials, candidates []string) (string, error) {
	var d sdp.SessionDescription
	if err := d.UnmarshalString(desc); err != nil {
		return "", fmt.Errorf("ice restart: parse offer: %w", err)
	}
	d.Attributes = withoutAttributes(d.Attributes, "ice-ufrag", "ice-pwd", "candidate", "end-of-candidates")
	for i, m := range d.MediaDescriptions {
		m.Attributes = withoutAttributes(m.Attributes, "ice-ufrag", "ice-pwd", "candidate", "end-of-candidates")
		m.WithValueAttribute("ice-ufrag", cred.Ufrag)
		m.WithValueAttribute("ice-pwd", cred.Pwd)
		if i == 0 {
			for _, cand := range candidates {
				m.WithValueAttribute("candidate", strings.TrimPrefix(cand, "candidate:"))
			}
		}
	}
	out, err := d.Marshal()
	if err != nil {
		return "", fmt.Errorf("ice restart: write offer: %w", err)
	}
	return string(out), nil
}

// iceCredentialsOf returns a description's first ICE credentials.
func iceCredentialsOf(desc string) ICECredentials {
	var out ICECredentials
	for _, line := range strings.Split(desc, "\n") {
		line = strings.TrimSpace(line)
		if v, ok := strings.CutPrefix(line, "a=ice-ufrag:"); ok && out.Ufrag == "" {
			out.Ufrag = v
		}
		if v, ok := strings.CutPrefix(line, "a=ice-pwd:"); ok && out.Pwd == "" {
			out.Pwd = v
		}
	}
	return out
}

// candidatesOf returns a description's candidates of its first media
// section ("candidate:…"): with BUNDLE they serve every section.
func candidatesOf(desc string) []string {
	var out []string
	section := 0
	for _, line := range strings.Split(desc, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "m=") {
			section++
		}
		if v, ok := strings.CutPrefix(line, "a=candidate:"); ok && section == 1 {
			out = append(out, "candidate:"+v)
		}
	}
	return out
}
