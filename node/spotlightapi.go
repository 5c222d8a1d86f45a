package node

import (
	"errors"
	"fmt"

	"github.com/kiroku-sfu/kiroku/api"
	"github.com/kiroku-sfu/kiroku/sfu"
)

var _ api.SpotlightBackend = (*apiBackend)(nil)

// spotlightError maps the SFU's spotlight errors to the API's statuses.
func spotlightError(err error) error {
	if errors.Is(err, sfu.ErrInvalid) {
		return fmt.Errorf("%w: %w", api.ErrInvalid, err)
	}
	return apiError(err)
}

// FocusSpotlight implements api.SpotlightBackend.
func (b *apiBackend) FocusSpotlight(channelID, connectionID string, fixed bool) error {
	return spotlightError(b.core.FocusSpotlight(channelID, connectionID, fixed))
}

// UnfocusSpotlight implements api.SpotlightBackend.
func (b *apiBackend) UnfocusSpotlight(channelID, connectionID string) error {
	return spotlightError(b.core.UnfocusSpotlight(channelID, connectionID))
}

// ChangeSpotlightNumber implements api.SpotlightBackend.
func (b *apiBackend) ChangeSpotlightNumber(channelID string, number int) error {
	return spotlightError(b.core.ChangeSpotlightNumber(channelID, number))
}

// RequestSpotlightRID implements api.SpotlightBackend.
func (b *apiBackend) RequestSpotlightRID(channelID, receiverID, senderID, focusRID, unfocusRID string) error {
	return spotlightError(b.core.RequestSpotlightRID(channelID, receiverID, senderID, focusRID, unfocusRID))
}

// ResetSpotlightRID implements api.SpotlightBackend.
func (b *apiBackend) ResetSpotlightRID(channelID, receiverID string) error {
	return spotlightError(b.core.ResetSpotlightRID(channelID, receiverID))
}
