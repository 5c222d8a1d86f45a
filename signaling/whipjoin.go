package signaling

import (
	"net/http"
	"slices"
	"strings"

	"github.com/kiroku-sfu/kiroku/sfu"
)

// joinRequest is what a WHIP publisher or WHEP player joins with, before
// authentication: a WHIP offer sends, and its video codec is the query's
// video_codec_type when the offer has it, else the client's first the SFU
// takes; a WHEP offer receives, and plays the query's connection_id (when
// it is in the channel) at the query's rid.
func (req *offerRequest) joinRequest() (sfu.JoinRequest, *httpError) {
	join := sfu.JoinRequest{ChannelID: req.channelID, ConnectionID: sfu.NewID(), ClientOffer: req.offer}
	sum := req.summary
	if req.protocol == whepProtocol {
		if !sum.Receives {
			return join, failure(http.StatusBadRequest, "bad offer: a WHEP offer receives (recvonly)")
		}
		join.Role, join.Follow = sfu.RecvOnly, true
		join.FollowConnectionID = req.query.Get("connection_id")
		if rid := req.query.Get("rid"); rid != "" {
			if _, err := sfu.ParseRID(rid); err != nil {
				return join, failure(http.StatusBadRequest, "rid %q is not one of r0, r1, r2", rid)
			}
			join.SimulcastRID = rid
		}
		return join, nil
	}
	if !sum.Sends {
		return join, failure(http.StatusBadRequest, "bad offer: a WHIP offer sends (sendonly)")
	}
	join.Role, join.Audio, join.Video = sfu.SendOnly, sum.Audio, sum.Video
	if !sum.Video {
		return join, nil
	}
	if len(sum.VideoCodecs) == 0 {
		return join, failure(http.StatusBadRequest, "bad offer: no video codec kiroku takes (VP8, VP9, AV1, H264, H265)")
	}
	join.VideoCodec = sum.VideoCodecs[0]
	if name := req.query.Get("video_codec_type"); name != "" {
		c, err := sfu.ParseCodec(strings.ToUpper(name))
		if err != nil || !slices.Contains(sum.VideoCodecs, c) {
			return join, failure(http.StatusBadRequest, "video_codec_type %q is not among the offer's codecs %v", name, sum.VideoCodecs)
		}
		join.VideoCodec = c
	}
	return join, nil
}

// authenticateOffer asks the authenticator about a WHIP/WHEP client, as
// for a connect: its bearer token is the metadata's "access_token", and
// whip (or whep) is true. The authenticator's overrides go into join.
func (srv *Server) authenticateOffer(req *offerRequest, join *sfu.JoinRequest) (AuthResult, *httpError) {
	if req.protocol == whepProtocol && join.FollowConnectionID != "" && !srv.publishes(req.channelID, join.FollowConnectionID) {
		return AuthResult{}, failure(http.StatusNotFound, "no publisher %s in channel %s", join.FollowConnectionID, req.channelID)
	}
	metadata := accessTokenMetadata(req.token)
	ctx, cancel := srv.authTimeout()
	defer cancel()
	res, err := srv.auth.Authenticate(ctx, AuthRequest{ChannelID: req.channelID, ConnectionID: join.ConnectionID,
		Role: join.Role, Audio: join.Audio, Video: join.Video, VideoCodec: join.VideoCodec, Metadata: metadata,
		SoraClient: req.userAgent, WHIP: req.protocol == whipProtocol, WHEP: req.protocol == whepProtocol,
		ClientAddress: req.clientAddr})
	switch {
	case err != nil:
		srv.log.Warn("authentication failed", "err", err)
		return res, failure(http.StatusServiceUnavailable, "AUTH-WEBHOOK-ERROR")
	case !res.Allowed && req.token == "":
		return res, failure(http.StatusUnauthorized, "%s", orDefault(res.Reason, "AUTH-DENIED"))
	case !res.Allowed:
		return res, failure(http.StatusForbidden, "%s", orDefault(res.Reason, "AUTH-DENIED"))
	case !validID(res.ClientID, true) || !validID(res.BundleID, true):
		return res, failure(http.StatusServiceUnavailable, "AUTH-WEBHOOK-ERROR")
	}
	if res.VideoCodec != "" && join.Video {
		if !slices.Contains(req.summary.VideoCodecs, res.VideoCodec) {
			return res, failure(http.StatusForbidden, "video_codec_type %s of the auth webhook is not in the offer", res.VideoCodec)
		}
		join.VideoCodec = res.VideoCodec
	}
	join.ClientID, join.BundleID = res.ClientID, res.BundleID
	join.Metadata = &participant{authn: metadata, authz: res.Metadata, notify: res.SignalingNotifyMetadata,
		extras: Extras{EventMetadata: res.EventMetadata, RecordingBlock: res.RecordingBlock}, clientAddr: req.clientAddr}
	return res, nil
}

// publishes reports whether a connection of the channel publishes.
func (srv *Server) publishes(channelID, connectionID string) bool {
	for _, c := range srv.sfu.ChannelConnections(channelID) {
		if c.ConnectionID == connectionID && c.Role.Sends() {
			return true
		}
	}
	return false
}
