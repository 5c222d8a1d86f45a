// Package archive runs Sora-style session recordings: one recording per
// session, one Recorder per connection feeding mux's writers, split
// scheduling, keyframe requests, metadata JSON, webhooks and crash
// recovery of archive_tmp_dir. It receives RTP as a subscriber of the SFU
// and never imports package sfu; cmd/sfu wires the two.
//
// Wiring, all through small interfaces defined here:
//
//   - NewManager(cfg, Deps{Notifier, Channels, Clock, Logger}) validates
//     the configuration; call Recover once before serving, Close at exit.
//   - The SFU side reports sessions and publishers: SessionCreated (with
//     OptionsFromReply of the session.created reply), ConnectionJoined
//     (a Connection with its tracks and a Source to subscribe to),
//     ConnectionLeft, and SessionDestroyed after the session.destroyed
//     webhook so recording.report follows it.
//   - The HTTP API calls StartRecording / StopRecording (errors wrap
//     ErrInvalid, ErrNotFound, ErrConflict) and Recording for GetSession.
//   - A Source's Subscribe attaches a Sink (the Recorder) to the
//     connection's media; the Subscription asks for keyframes (already
//     rate-limited here to one a second) and detaches.
//   - WebhookNotifier sends the events through webhooks.Client.
//
// Files are written in archive_tmp_dir as <recording_id>~<final name>
// beside a .pending.json sidecar, then moved into
// archive_dir/<recording_id>/ (media first, JSON last, each fsynced).
// Verify checks a finished recording directory.
package archive
