package node

import (
	"context"
	"errors"
	"log/slog"

	"github.com/kiroku-sfu/kiroku/api"
	"github.com/kiroku-sfu/kiroku/archive"
	"github.com/kiroku-sfu/kiroku/memudp"
	"github.com/kiroku-sfu/kiroku/relay"
	"github.com/kiroku-sfu/kiroku/sfu"
	"github.com/kiroku-sfu/kiroku/signaling"
	"github.com/kiroku-sfu/kiroku/webhooks"
)

// components are the running parts of the SFU process.
type components struct {
	hooks    *webhooks.Client
	recHooks *recordingHooks
	notifier *orderedNotifier
	core     *sfu.SFU
	sig      *signaling.Server
	rec      *archive.Manager
	api      *api.Server
	turn     *relay.Server // nil unless turn = true
	cluster  *clusterPart  // nil unless cluster = true
}

// build creates the webhook client, the SFU, the signaling server and
// the archive manager, wired to each other. The recording hooks sit
// between the SFU and signaling and their webhooks; they learn the SFU
// and the manager here, before anything is served.
func build(st Settings, logger *slog.Logger) (*components, error) {
	if w := st.ignored; w != nil {
		logger.Warn("sora.conf keys kiroku does not implement are ignored", "keys", w.Names(), "detail", w.String())
	}
	hooks, err := webhooks.New(st.webhooks, logger.With("component", "webhooks"), nil)
	if err != nil {
		return nil, err
	}
	adapter := signaling.NewWebhooks(hooks, st.hookOpts)
	ledger := &hookLedger{client: hooks}
	rh := newRecordingHooks(adapter, ledger, st.hookOpts, logger.With("component", "recording"))
	st.sfu.Logger, st.sfu.Observer = logger.With("component", "sfu"), rh
	st.signaling.Logger = logger.With("component", "signaling")
	st.signaling.Authenticator, st.signaling.Events = adapter, rh
	// The first connections of a session wait for session.created's
	// reply at most one webhook time-out.
	rh.gates, rh.wait = signaling.NewSessionGates(st.webhooks.Timeout), st.webhooks.Timeout
	st.signaling.SessionGate = rh.gates
	c := &components{hooks: hooks, recHooks: rh}
	if st.turn.Enabled {
		// The relay's only peer is the SFU: their packets stay in memory.
		st.sfu.LocalUDP = memudp.NewSwitch()
		rc := st.turn.relayConfig(st.sfu, logger.With("component", "turn"))
		rc.Switch = st.sfu.LocalUDP
		if c.turn, err = relay.New(rc); err != nil {
			return nil, errors.Join(err, hooks.Close(context.Background()))
		}
		st.signaling.TURN = c.turn
	}
	if c.core, err = sfu.New(st.sfu); err != nil {
		return nil, errors.Join(err, c.closeTURN(), hooks.Close(context.Background()))
	}
	// The cluster, if on, gives signaling its Placement and the API its
	// Forwarder.
	if c.cluster, err = joinCluster(&st, c.core, logger); err != nil {
		return nil, errors.Join(err, c.core.Close(), c.closeTURN(), hooks.Close(context.Background()))
	}
	if c.sig, err = signaling.New(st.signaling, c.core); err != nil {
		return nil, errors.Join(err, c.cluster.close(context.Background()), c.core.Close(), c.closeTURN(), hooks.Close(context.Background()))
	}
	c.notifier = newOrderedNotifier(archive.WebhookNotifier{Client: hooks}, ledger, hookWait)
	// A recorder is called from the tracks' readers (sfu.QueueingSink):
	// its own queue is the one sink_queue_packets sizes.
	c.rec, err = archive.NewManager(st.archive, archive.Deps{Logger: logger.With("component", "archive"),
		Notifier: c.notifier, Channels: c.sig, QueueSize: st.sfu.SinkQueue})
	if err != nil {
		c.notifier.Close()
		return nil, errors.Join(err, c.sig.Shutdown(context.Background()), c.cluster.close(context.Background()),
			c.core.Close(), c.closeTURN(), hooks.Close(context.Background()))
	}
	rh.core, rh.rec, rh.settle = c.core, c.rec, c.notifier.settleSession
	backend := &apiBackend{core: c.core, sig: c.sig, hooks: hooks, rec: recorderAPI{c.rec}, info: st.webhooks, turn: c.turn}
	if c.cluster != nil {
		backend.external = st.cluster.ExternalSignalingURL
	}
	if c.api, err = api.New(st.api, backend, recorderAPI{c.rec}, logger.With("component", "api")); err != nil {
		return nil, errors.Join(err, c.shutdown(context.Background()))
	}
	if c.cluster != nil {
		c.cluster.api.Store(c.api)
	}
	return c, nil
}

// shutdown takes the node out of the cluster's registry, closes every
// connection with a reason, releases the node's channel claims, lets the
// recordings finish and deliver their files, then flushes webhooks.
func (c *components) shutdown(ctx context.Context) error {
	err := errors.Join(c.cluster.leave(ctx), c.sig.Shutdown(ctx), c.core.Close(), c.closeTURN())
	c.recHooks.Close()
	err = errors.Join(err, c.cluster.close(ctx), c.rec.Close())
	c.notifier.Close()
	return errors.Join(err, c.hooks.Close(ctx))
}

// closeTURN stops the TURN server, if there is one.
func (c *components) closeTURN() error {
	if c.turn == nil {
		return nil
	}
	return c.turn.Close()
}

// recoverArchives finishes what a crash left in archive_tmp_dir.
func (c *components) recoverArchives(logger *slog.Logger) error {
	res, err := c.rec.Recover()
	if err != nil {
		return err
	}
	if res != (archive.Recovered{}) {
		logger.Warn("recovered recordings left by a crash", "files", res.Files, "reports", res.Reports,
			"quarantined", res.Quarantined)
	}
	return nil
}
