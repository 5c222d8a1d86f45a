package node

import (
	"context"
	"errors"
	"fmt"

	"github.com/kiroku-sfu/kiroku/api"
	"github.com/kiroku-sfu/kiroku/archive"
)

// recorderAPI adapts the archive manager to the HTTP API's recording
// methods.
type recorderAPI struct {
	rec *archive.Manager
}

var _ api.Recorder = recorderAPI{}

// StartRecording implements api.Recorder.
func (r recorderAPI) StartRecording(_ context.Context, req api.StartRecordingRequest) (api.Recording, error) {
	o := archive.Options{Metadata: req.Metadata}
	if req.ExpireTime != nil {
		o.ExpireTime = *req.ExpireTime
	}
	if req.SplitDuration != nil {
		o.SplitDuration = *req.SplitDuration
	}
	if req.SplitOnly != nil {
		o.SplitOnly = *req.SplitOnly
	}
	if req.Format != nil {
		o.Format = archive.Format(*req.Format)
	}
	in, err := r.rec.StartRecording(req.ChannelID, o)
	if err != nil {
		return api.Recording{}, recordingError(err)
	}
	return apiRecording(in), nil
}

// StopRecording implements api.Recorder.
func (r recorderAPI) StopRecording(_ context.Context, channelID string) (api.Recording, error) {
	in, err := r.rec.StopRecording(channelID)
	if err != nil {
		return api.Recording{}, recordingError(err)
	}
	return apiRecording(in), nil
}

// recording returns the channel's running recording for GetSession.
func (r recorderAPI) recording(channelID string) *api.Recording {
	in, ok := r.rec.Recording(channelID)
	if !ok {
		return nil
	}
	out := apiRecording(in)
	return &out
}

func apiRecording(in archive.Info) api.Recording {
	return api.Recording{RecordingID: in.RecordingID, RecordingMetadata: in.RecordingMetadata,
		ExpireTime: in.ExpireTime, ExpiredAt: in.ExpiredAt, SplitDuration: in.SplitDuration,
		SplitOnly: in.SplitOnly, StartTimestamp: in.StartTimestamp, Format: string(in.Format)}
}

// recordingError maps archive's errors to the API's statuses.
func recordingError(err error) error {
	for _, m := range []struct{ from, to error }{
		{archive.ErrInvalid, api.ErrInvalid},
		{archive.ErrNotFound, api.ErrNotFound},
		{archive.ErrConflict, api.ErrConflict},
	} {
		if errors.Is(err, m.from) {
			return fmt.Errorf("%w: %w", m.to, err)
		}
	}
	return err
}
