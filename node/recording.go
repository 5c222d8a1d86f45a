package node

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/kiroku-sfu/kiroku/archive"
	"github.com/kiroku-sfu/kiroku/mux"
	"github.com/kiroku-sfu/kiroku/sfu"
	"github.com/kiroku-sfu/kiroku/signaling"
	"github.com/kiroku-sfu/kiroku/webhooks"
)

var (
	_ sfu.Observer            = (*recordingHooks)(nil)
	_ signaling.EventSink     = (*recordingHooks)(nil)
	_ archive.ChannelNotifier = (*signaling.Server)(nil)
)

// sessionLookup is what recordingHooks needs from *sfu.SFU.
type sessionLookup interface {
	subscriber
	Session(channelID string) (sfu.SessionInfo, error)
	SetSessionMetadata(channelID, sessionID string, metadata json.RawMessage) error
}

// recordingHooks stands between the SFU, signaling and their webhooks:
// it passes every event on to the webhooks and tells the archive manager
// about sessions and publishers, in the order Sora's webhooks need.
//
// It owns one goroutine per session.created call (the reply may ask for
// recording); Close cancels and waits for them.
type recordingHooks struct {
	hooks  *signaling.Webhooks
	ledger *hookLedger // counts the session and event webhooks passed on
	// ignoreVanished is ignore_session_vanished_webhook: no webhook is sent.
	ignoreVanished bool
	rec            *archive.Manager
	core           sessionLookup
	logger         *slog.Logger
	// gates holds a new session's connections before their offer until
	// the reply to session.created is applied, at most wait (the webhook
	// time-out); settle waits, at most the time given, until the session
	// webhooks queued so far (recording.started) are out. Both optional.
	gates  *signaling.SessionGates
	wait   time.Duration
	settle func(max time.Duration)

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// newRecordingHooks returns the hooks; the caller sets core and rec
// before the SFU admits anyone.
func newRecordingHooks(hooks *signaling.Webhooks, ledger *hookLedger, opts signaling.WebhookOptions,
	logger *slog.Logger) *recordingHooks {
	ctx, cancel := context.WithCancel(context.Background())
	return &recordingHooks{hooks: hooks, ledger: ledger, ignoreVanished: opts.IgnoreSessionVanished,
		logger: logger, ctx: ctx, cancel: cancel}
}

// SessionCreated registers the session with the archive manager, holds
// its connections before their offer, then sends session.created in the
// background and applies its reply (session_metadata, recording) before
// letting them go on: a session the reply asks to record is recorded from
// its first packet, and recording.started comes before the first offer.
func (h *recordingHooks) SessionCreated(s sfu.SessionInfo) {
	if _, err := h.rec.SessionCreated(s.ChannelID, s.SessionID, nil); err != nil {
		h.logger.Warn("register session for recording", "channel_id", s.ChannelID, "err", err)
	}
	release := func() {}
	if h.gates != nil {
		release = h.gates.Hold(s.SessionID)
	}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		defer release()
		h.askRecording(s)
	}()
}

// askRecording calls session.created (retrying while the session lives,
// within the wait) and applies its reply to the session, if it still
// lives. A reply that does not come within the wait is not applied: the
// session goes on unrecorded.
func (h *recordingHooks) askRecording(s sfu.SessionInfo) {
	h.ledger.handedCall(webhooks.Session)
	alive := func() bool {
		cur, err := h.core.Session(s.ChannelID)
		return err == nil && cur.SessionID == s.SessionID
	}
	ctx, cancel := h.ctx, context.CancelFunc(func() {})
	if h.wait > 0 {
		ctx, cancel = context.WithTimeout(h.ctx, h.wait)
	}
	defer cancel()
	reply, err := h.hooks.CallSessionCreated(ctx, s, alive)
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		h.logger.Warn("session.created got no reply in time: the session goes on without its settings and unrecorded",
			"channel_id", s.ChannelID, "session_id", s.SessionID, "wait", h.wait, "err", err)
		return
	}
	if err != nil {
		h.logger.Warn("session.created", "channel_id", s.ChannelID, "session_id", s.SessionID, "err", err)
		return
	}
	h.applyReply(ctx, s, reply, alive)
}

// applyReply stores the reply's session_metadata and starts the recording
// it asks for, then waits (within ctx) until recording.started is out.
func (h *recordingHooks) applyReply(ctx context.Context, s sfu.SessionInfo, reply webhooks.SessionCreatedReply, alive func() bool) {
	if len(reply.SessionMetadata) > 0 {
		if err := h.core.SetSessionMetadata(s.ChannelID, s.SessionID, reply.SessionMetadata); err != nil {
			h.logger.Debug("session_metadata of an ended session", "channel_id", s.ChannelID, "err", err)
		}
	}
	if sn, ok := h.core.(interface{ ChangeSpotlightNumber(string, int) error }); ok && reply.SpotlightNumber != nil {
		if err := sn.ChangeSpotlightNumber(s.ChannelID, *reply.SpotlightNumber); err != nil {
			h.logger.Warn("spotlight_number of session.created", "channel_id", s.ChannelID, "err", err)
		}
	}
	opts := archive.OptionsFromReply(reply)
	if opts == nil || !alive() {
		return // nothing to record, or the session ended while the webhook was answering
	}
	if _, err := h.rec.StartRecording(s.ChannelID, *opts); err != nil {
		h.logger.Warn("start recording from session.created", "channel_id", s.ChannelID, "err", err)
		return
	}
	if deadline, ok := ctx.Deadline(); ok && h.settle != nil {
		h.settle(time.Until(deadline))
	}
}

// SessionDestroyed queues session.destroyed, then stops the session's
// recording, so that recording.report follows session.destroyed.
func (h *recordingHooks) SessionDestroyed(s sfu.SessionInfo) {
	h.ledger.handed(webhooks.Session)
	h.hooks.SessionDestroyed(s)
	if cur, err := h.core.Session(s.ChannelID); err == nil && cur.SessionID != s.SessionID {
		return // a new session of the channel already replaced it
	}
	h.rec.SessionDestroyed(s.ChannelID)
}

// SessionsVanished passes session.vanished on.
func (h *recordingHooks) SessionsVanished(m sfu.Mode) {
	if !h.ignoreVanished {
		h.ledger.handed(webhooks.Session)
	}
	h.hooks.SessionsVanished(m)
}

// HandleEvent passes the event webhook on, then records a publisher once
// its media is established and finishes its recording when it leaves.
func (h *recordingHooks) HandleEvent(e signaling.Event) {
	h.ledger.handed(webhooks.Event)
	h.hooks.HandleEvent(e)
	c := e.Connection
	if !c.Role.Sends() {
		return
	}
	switch e.Type {
	case "connection.created":
		src := connSource{core: h.core, channel: c.ChannelID, id: c.ConnectionID, video: mux.Codec(c.VideoCodec)}
		h.rec.ConnectionJoined(c.ChannelID, recordedConnection(c), src)
	case "connection.destroyed":
		h.rec.ConnectionLeft(c.ChannelID, c.ConnectionID)
	}
}

// Close stops the pending session.created calls and waits for them.
func (h *recordingHooks) Close() {
	h.cancel()
	h.wg.Wait()
}
