package signaling

import (
	"sync"
	"time"

	"github.com/kiroku-sfu/kiroku/sfu"
)

// maxDeparted bounds the departed connections kept per session: a
// channel that lives for weeks with clients coming and going keeps the
// most recent ones.
const maxDeparted = 1000

// DepartedConnection is an established connection that left a session
// which still lives, for the HTTP API's session objects.
type DepartedConnection struct {
	Info        sfu.ConnectionInfo
	DestroyedAt time.Time
}

// tracked is an established connection the server reports on.
type tracked struct {
	info    sfu.ConnectionInfo
	conn    *sfu.Connection // nil when the SFU no longer had it
	updates int             // connection.updated events sent
	traffic sfu.Traffic     // as of the last connection.updated
}

// tracker keeps the established connections (for connection.updated and
// their traffic) and the departed ones of live sessions. It is owned by
// the Server; runUpdates is its one goroutine.
type tracker struct {
	mu       sync.Mutex
	live     map[string]*tracked             // by connection_id
	departed map[string][]DepartedConnection // by session_id
}

func newTracker() *tracker {
	return &tracker{live: make(map[string]*tracked), departed: make(map[string][]DepartedConnection)}
}

// track starts reporting on an established connection.
func (srv *Server) track(info sfu.ConnectionInfo) {
	conn, _ := srv.sfu.Connection(info.ConnectionID)
	srv.tracker.mu.Lock()
	srv.tracker.live[info.ConnectionID] = &tracked{info: info, conn: conn}
	srv.tracker.mu.Unlock()
	srv.pruneDeparted()
}

// untrack stops reporting on a connection that left, keeps it with its
// session's departed connections and returns its traffic as of its last
// connection.updated: the PeerConnection's statistics are not read while
// it may be closing.
func (srv *Server) untrack(info sfu.ConnectionInfo, at time.Time) sfu.Traffic {
	srv.tracker.mu.Lock()
	t := srv.tracker.live[info.ConnectionID]
	delete(srv.tracker.live, info.ConnectionID)
	gone := append(srv.tracker.departed[info.SessionID], DepartedConnection{Info: info, DestroyedAt: at})
	if len(gone) > maxDeparted {
		gone = append([]DepartedConnection(nil), gone[len(gone)-maxDeparted:]...)
	}
	srv.tracker.departed[info.SessionID] = gone
	srv.tracker.mu.Unlock()
	srv.pruneDeparted()
	if t == nil {
		return sfu.Traffic{}
	}
	return t.traffic
}

// pruneDeparted forgets the departed connections of sessions that ended.
func (srv *Server) pruneDeparted() {
	srv.tracker.mu.Lock()
	defer srv.tracker.mu.Unlock()
	for id, list := range srv.tracker.departed {
		if cur, err := srv.sfu.Session(list[0].Info.ChannelID); err != nil || cur.SessionID != id {
			delete(srv.tracker.departed, id)
		}
	}
}

// DepartedConnections lists the established connections that left the
// live session sessionID, in the order they left (the last maxDeparted);
// none once the session has ended.
func (srv *Server) DepartedConnections(sessionID string) []DepartedConnection {
	srv.pruneDeparted()
	srv.tracker.mu.Lock()
	defer srv.tracker.mu.Unlock()
	return append([]DepartedConnection(nil), srv.tracker.departed[sessionID]...)
}

// runUpdates sends connection.updated for every established connection
// Config.UpdateFirst after it was created, then every Config.UpdateEvery,
// as Sora does, until the server shuts down.
func (srv *Server) runUpdates() {
	defer srv.bg.Done()
	tick := min(time.Second, srv.cfg.UpdateFirst/4)
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-srv.ctx.Done():
			return
		case <-t.C:
			for _, t := range srv.dueUpdates(srv.now()) {
				srv.sendUpdate(t)
			}
		}
	}
}

// dueUpdates returns the connections whose next connection.updated is
// due at now, counting it as sent.
func (srv *Server) dueUpdates(now time.Time) []*tracked {
	srv.tracker.mu.Lock()
	defer srv.tracker.mu.Unlock()
	var due []*tracked
	for _, t := range srv.tracker.live {
		next := t.info.CreatedAt.Add(srv.cfg.UpdateFirst + time.Duration(t.updates)*srv.cfg.UpdateEvery)
		if !now.Before(next) {
			t.updates++
			due = append(due, t)
		}
	}
	return due
}

// sendUpdate samples a live connection's traffic and sends its
// connection.updated.
func (srv *Server) sendUpdate(t *tracked) {
	var traffic sfu.Traffic
	if t.conn != nil {
		traffic = t.conn.Traffic()
	}
	srv.tracker.mu.Lock()
	_, live := srv.tracker.live[t.info.ConnectionID]
	t.traffic = traffic
	srv.tracker.mu.Unlock()
	if live {
		srv.updated(t.info, traffic)
	}
}
