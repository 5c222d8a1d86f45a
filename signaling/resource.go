package signaling

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kiroku-sfu/kiroku/sfu"
)

// resource is one WHIP publisher or WHEP player: a connection that an
// HTTP offer made and that lives until DELETE, a disconnect API call, its
// lifetime, a failed PeerConnection or shutdown. It is the connection's
// sfu.Peer; its client has no channel for notifies or pushes.
type resource struct {
	srv      *Server
	id       string // the last path element of its URL
	protocol string // "whip" or "whep"
	conn     *sfu.Connection
	turnUser string // TURN credentials to revoke at the end
	// iceServers are the ICE servers the client was told of (Link).
	iceServers []ICEServer

	apiReason atomic.Value // string: the disconnect API's reason
	answered  atomic.Bool  // the offer was answered: the channel heard of it
	patches   atomic.Uint64

	joined  chan struct{} // closed once conn is set
	endOnce sync.Once

	mu        sync.Mutex
	lifeTimer *time.Timer // the auth webhook's connection_lifetime
}

// setLifetime ends the resource after d.
func (r *resource) setLifetime(d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lifeTimer = time.AfterFunc(d, func() { r.srv.endResource(r, "LIFETIME-EXPIRED") })
}

// newResourceID returns an unguessable resource id: whoever knows a
// resource's URL may end it.
func newResourceID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read does not fail
	return hex.EncodeToString(b[:])
}

// location is the resource's URL path.
func (r *resource) location() string { return "/" + r.protocol + "-resource/" + r.id }

// etag is the resource's current entity tag: it changes with every ICE
// restart.
func (r *resource) etag() string {
	return `"` + r.id[:8] + "-" + strconv.FormatUint(r.patches.Load(), 10) + `"`
}

// ReOffer implements sfu.Peer. A client-offer connection is never
// renegotiated by the server, so this is not expected.
func (r *resource) ReOffer(string) {
	r.srv.log.Warn("re-offer for a WHIP/WHEP connection dropped", "connection_id", r.conn.ID())
}

// Push implements sfu.Peer: a WHIP/WHEP client has no channel for it.
func (r *resource) Push(json.RawMessage) {}

// Disconnect implements sfu.Peer: the connection ends in the background.
func (r *resource) Disconnect(reason string) { r.srv.endResource(r, reason) }

var _ sfu.Peer = (*resource)(nil)

// end closes the connection and tells the channel; only the first call
// counts. It waits for the connection's goroutines.
func (r *resource) end(reason string) {
	r.endOnce.Do(func() {
		if r.conn == nil {
			return // it never joined
		}
		r.srv.forgetResource(r)
		r.mu.Lock()
		if r.lifeTimer != nil {
			r.lifeTimer.Stop()
		}
		r.mu.Unlock()
		if r.turnUser != "" {
			r.srv.cfg.TURN.Revoke(r.turnUser)
		}
		if err := r.conn.Close(); err != nil {
			r.srv.log.Debug("close connection", "connection_id", r.conn.ID(), "err", err)
		}
		if r.answered.Load() {
			apiReason, _ := r.apiReason.Load().(string)
			r.srv.destroyed(r.conn.Info(), reason, apiReason)
		} else {
			r.srv.failed(r.conn.Info(), reason) // never established: only the event sink hears of it
		}
		r.srv.log.Info(r.protocol+" resource ended", "connection_id", r.conn.ID(), "reason", reason)
	})
}

// resources are the server's WHIP/WHEP resources, by id and by
// connection_id.
type resources struct {
	byID   map[string]*resource
	byConn map[string]*resource
	wg     sync.WaitGroup // one per resource ending in the background
}

// addResource registers r; false while shutting down.
func (srv *Server) addResource(r *resource) bool {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.closing {
		return false
	}
	srv.res.byID[r.id] = r
	srv.res.byConn[r.conn.ID()] = r
	return true
}

func (srv *Server) forgetResource(r *resource) {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.res.byID[r.id] == r {
		delete(srv.res.byID, r.id)
		delete(srv.res.byConn, r.conn.ID())
	}
}

// resource returns a live resource of protocol by id, or nil.
func (srv *Server) resource(protocol, id string) *resource {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if r := srv.res.byID[id]; r != nil && r.protocol == protocol {
		return r
	}
	return nil
}

// resourceOf returns the resource of a connection, or nil.
func (srv *Server) resourceOf(connectionID string) *resource {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return srv.res.byConn[connectionID]
}

// endResource ends r in the background (callers may hold SFU locks),
// once its connection is known: the SFU may ask a connection to leave
// before Join has returned it.
func (srv *Server) endResource(r *resource, reason string) {
	srv.res.wg.Add(1)
	go func() {
		defer srv.res.wg.Done()
		<-r.joined
		r.end(reason)
	}()
}

// endResources ends every resource with reason and waits.
func (srv *Server) endResources(reason string) {
	srv.mu.Lock()
	open := make([]*resource, 0, len(srv.res.byID))
	for _, r := range srv.res.byID {
		open = append(open, r)
	}
	srv.mu.Unlock()
	for _, r := range open {
		srv.endResource(r, reason)
	}
	srv.res.wg.Wait()
}
