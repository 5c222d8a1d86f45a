package signaling

import "sync/atomic"

// Stats are the signaling server's running totals since it started.
type Stats struct {
	WebSockets  uint64 // WebSockets accepted
	Established uint64 // connections whose first answer was applied
	Rejected    uint64 // WebSockets closed with a 4xxx code
	Ongoing     int    // WebSockets open now
	// IgnoredForwarded counts X-Real-IP / X-Forwarded-For headers not
	// believed: from a source that is not a configured proxy, or
	// unreadable.
	IgnoredForwarded uint64
}

type counters struct {
	webSockets, established, rejected atomic.Uint64
	ignoredForwarded                  atomic.Uint64
}

// Stats returns the running totals.
func (srv *Server) Stats() Stats {
	srv.mu.Lock()
	ongoing := len(srv.all)
	srv.mu.Unlock()
	return Stats{WebSockets: srv.counters.webSockets.Load(), Established: srv.counters.established.Load(),
		Rejected: srv.counters.rejected.Load(), Ongoing: ongoing, IgnoredForwarded: srv.counters.ignoredForwarded.Load()}
}
