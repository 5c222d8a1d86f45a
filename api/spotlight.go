package api

import (
	"context"
	"encoding/json"
)

// SpotlightBackend is what the spotlight methods need; a Backend that
// does not implement it answers them 400 "spotlight is not available".
// Errors wrap ErrNotFound (no such channel, publisher or receiver) or
// ErrInvalid (not a spotlight channel, a bad rid or number).
type SpotlightBackend interface {
	// FocusSpotlight focuses a publisher now; fixed keeps it focused
	// until UnfocusSpotlight.
	FocusSpotlight(channelID, connectionID string, fixed bool) error
	UnfocusSpotlight(channelID, connectionID string) error
	ChangeSpotlightNumber(channelID string, number int) error
	// RequestSpotlightRID sets a receiver's focus and unfocus rids ("" keeps
	// one), of one sender's video or of every sender's when sender is "".
	RequestSpotlightRID(channelID, receiverID, senderID, focusRID, unfocusRID string) error
	ResetSpotlightRID(channelID, receiverID string) error
}

// spotlightRequest covers the spotlight methods' bodies.
type spotlightRequest struct {
	ChannelID       string          `json:"channel_id"`
	ConnectionID    string          `json:"connection_id"`
	SpotlightNumber *int            `json:"spotlight_number"`
	RecvID          string          `json:"recv_connection_id"`
	SendID          string          `json:"send_connection_id"`
	FocusRID        string          `json:"spotlight_focus_rid"`
	UnfocusRID      string          `json:"spotlight_unfocus_rid"`
	ItemList        []spotlightItem `json:"item_list"`
}

// spotlightItem is one entry of BatchRequestSpotlightRid's item_list.
type spotlightItem struct {
	RecvID     string `json:"recv_connection_id"`
	SendID     string `json:"send_connection_id"`
	FocusRID   string `json:"spotlight_focus_rid"`
	UnfocusRID string `json:"spotlight_unfocus_rid"`
}

// spotlightRoutes are the spotlight methods by x-sora-target.
func (s *Server) spotlightRoutes() map[string]handler {
	return map[string]handler{
		"Sora_20200807.FocusSpotlightFixed":      s.focusSpotlight(true),
		"Sora_20200807.FocusSpotlight":           s.focusSpotlight(false),
		"Sora_20200807.UnfocusSpotlight":         s.unfocusSpotlight,
		"Sora_20200807.ChangeSpotlightNumber":    s.changeSpotlightNumber,
		"Sora_20211215.RequestSpotlightRid":      s.requestSpotlightRid,
		"Sora_20211215.ResetSpotlightRid":        s.resetSpotlightRid,
		"Sora_20211215.BatchRequestSpotlightRid": s.batchRequestSpotlightRid,
	}
}

// spotlightBody decodes a spotlight body and returns the backend.
func (s *Server) spotlightBody(body []byte, req *spotlightRequest) (SpotlightBackend, error) {
	sb, ok := s.backend.(SpotlightBackend)
	if !ok {
		return nil, badRequest("spotlight is not available on this server")
	}
	if err := decode(body, req); err != nil {
		return nil, err
	}
	return sb, required([2]string{"channel_id", req.ChannelID})
}

func (s *Server) focusSpotlight(fixed bool) handler {
	return func(_ context.Context, body []byte) (any, error) {
		var req spotlightRequest
		sb, err := s.spotlightBody(body, &req)
		if err == nil {
			err = required([2]string{"connection_id", req.ConnectionID})
		}
		if err == nil {
			err = sb.FocusSpotlight(req.ChannelID, req.ConnectionID, fixed)
		}
		if err != nil {
			return nil, err
		}
		return map[string]string{"channel_id": req.ChannelID, "connection_id": req.ConnectionID}, nil
	}
}

func (s *Server) unfocusSpotlight(_ context.Context, body []byte) (any, error) {
	var req spotlightRequest
	sb, err := s.spotlightBody(body, &req)
	if err == nil {
		err = required([2]string{"connection_id", req.ConnectionID})
	}
	if err == nil {
		err = sb.UnfocusSpotlight(req.ChannelID, req.ConnectionID)
	}
	if err != nil {
		return nil, err
	}
	return map[string]string{"channel_id": req.ChannelID, "connection_id": req.ConnectionID}, nil
}

func (s *Server) changeSpotlightNumber(_ context.Context, body []byte) (any, error) {
	var req spotlightRequest
	sb, err := s.spotlightBody(body, &req)
	if err == nil && req.SpotlightNumber == nil {
		err = badRequest("spotlight_number is required")
	}
	if err == nil {
		err = sb.ChangeSpotlightNumber(req.ChannelID, *req.SpotlightNumber)
	}
	if err != nil {
		return nil, err
	}
	return map[string]any{"channel_id": req.ChannelID, "spotlight_number": *req.SpotlightNumber}, nil
}

func (s *Server) requestSpotlightRid(_ context.Context, body []byte) (any, error) {
	var req spotlightRequest
	sb, err := s.spotlightBody(body, &req)
	if err == nil {
		err = checkSpotlightItem(spotlightItem{RecvID: req.RecvID, FocusRID: req.FocusRID, UnfocusRID: req.UnfocusRID})
	}
	if err == nil {
		err = sb.RequestSpotlightRID(req.ChannelID, req.RecvID, req.SendID, req.FocusRID, req.UnfocusRID)
	}
	if err != nil {
		return nil, err
	}
	out := map[string]string{"channel_id": req.ChannelID, "recv_connection_id": req.RecvID}
	for k, v := range map[string]string{"send_connection_id": req.SendID, "spotlight_focus_rid": req.FocusRID,
		"spotlight_unfocus_rid": req.UnfocusRID} {
		if v != "" {
			out[k] = v
		}
	}
	return out, nil
}

func (s *Server) resetSpotlightRid(_ context.Context, body []byte) (any, error) {
	var req spotlightRequest
	sb, err := s.spotlightBody(body, &req)
	if err == nil {
		err = required([2]string{"recv_connection_id", req.RecvID})
	}
	if err == nil {
		err = sb.ResetSpotlightRID(req.ChannelID, req.RecvID)
	}
	if err != nil {
		return nil, err
	}
	return map[string]string{"channel_id": req.ChannelID, "recv_connection_id": req.RecvID}, nil
}

// batchRequestSpotlightRid checks every item before applying any; an
// item that then fails (its receiver left meanwhile) stops the batch.
func (s *Server) batchRequestSpotlightRid(_ context.Context, body []byte) (any, error) {
	var req spotlightRequest
	sb, err := s.spotlightBody(body, &req)
	if err == nil && len(req.ItemList) == 0 {
		err = badRequest("item_list is required")
	}
	for i := 0; err == nil && i < len(req.ItemList); i++ {
		err = checkSpotlightItem(req.ItemList[i])
	}
	for i := 0; err == nil && i < len(req.ItemList); i++ {
		it := req.ItemList[i]
		err = sb.RequestSpotlightRID(req.ChannelID, it.RecvID, it.SendID, it.FocusRID, it.UnfocusRID)
	}
	if err != nil {
		return nil, err
	}
	items, _ := json.Marshal(req.ItemList)
	return map[string]any{"channel_id": req.ChannelID, "item_list": json.RawMessage(items)}, nil
}

// checkSpotlightItem wants a receiver and at least one valid rid.
func checkSpotlightItem(it spotlightItem) error {
	if err := required([2]string{"recv_connection_id", it.RecvID}); err != nil {
		return err
	}
	if it.FocusRID == "" && it.UnfocusRID == "" {
		return badRequest("spotlight_focus_rid or spotlight_unfocus_rid is required")
	}
	for _, rid := range []string{it.FocusRID, it.UnfocusRID} {
		switch rid {
		case "", "none", "r0", "r1", "r2":
		default:
			return badRequest("spotlight rid %q is not one of none, r0, r1, r2", rid)
		}
	}
	return nil
}
