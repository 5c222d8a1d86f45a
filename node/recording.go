package node

import (
	"context"
	"log/slog"
	"sync"

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

// SessionCreated registers the session with the archive manager, then
// sends session.created in the background and starts recording when its
// reply asks for it.
func (h *recordingHooks) SessionCreated(s sfu.SessionInfo) {
	if _, err := h.rec.SessionCreated(s.ChannelID, s.SessionID, nil); err != nil {
		h.logger.Warn("register session for recording", "channel_id", s.ChannelID, "err", err)
	}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		h.askRecording(s)
	}()
}

// askRecording calls session.created (retrying while the session lives)
// and applies the recording fields of its reply to the session, if it
// still lives.
func (h *recordingHooks) askRecording(s sfu.SessionInfo) {
	h.ledger.handedCall(webhooks.Session)
	alive := func() bool {
		cur, err := h.core.Session(s.ChannelID)
		return err == nil && cur.SessionID == s.SessionID
	}
	reply, err := h.hooks.CallSessionCreated(h.ctx, s, alive)
	if err != nil {
		h.logger.Warn("session.created", "channel_id", s.ChannelID, "session_id", s.SessionID, "err", err)
		return
	}
	opts := archive.OptionsFromReply(reply)
	if opts == nil {
		return
	}
	if !alive() {
		return // the session ended while the webhook was answering
	}
	if _, err := h.rec.StartRecording(s.ChannelID, *opts); err != nil {
		h.logger.Warn("start recording from session.created", "channel_id", s.ChannelID, "err", err)
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
