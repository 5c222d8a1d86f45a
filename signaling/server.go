package signaling

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/kiroku-sfu/kiroku/sfu"
)

// Path is where the signaling WebSocket is served.
const Path = "/signaling"

// Server accepts signaling WebSockets and drives the SFU.
type Server struct {
	cfg      Config
	sfu      *sfu.SFU
	log      *slog.Logger
	auth     Authenticator
	events   EventSink
	counters counters
	upgrader websocket.Upgrader

	ctx    context.Context // canceled by Shutdown; bounds auth and offers
	cancel context.CancelFunc
	wg     sync.WaitGroup // one per WebSocket handler
	bg     sync.WaitGroup // runUpdates

	tracker *tracker // established and departed connections

	mu       sync.Mutex
	closing  bool
	all      map[*session]struct{} // every open WebSocket
	sessions map[string]*session   // joined connections by connection_id
	res      resources             // WHIP and WHEP connections
	proxies  []*net.IPNet          // whose forwarded headers are believed
}

// New validates cfg and returns a server for the SFU.
func New(cfg Config, s *sfu.SFU) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if s == nil {
		return nil, fmt.Errorf("signaling: no SFU")
	}
	proxies, err := forwardedSources(cfg.ForwardedSources)
	if err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	srv := &Server{cfg: cfg, sfu: s, log: cfg.Logger, auth: cfg.Authenticator, events: cfg.Events,
		all: make(map[*session]struct{}), sessions: make(map[string]*session), tracker: newTracker(),
		res:     resources{byID: make(map[string]*resource), byConn: make(map[string]*resource)},
		proxies: proxies}
	if srv.auth == nil {
		srv.auth = AllowAll{}
	}
	srv.auth = countedAuth{inner: srv.auth, sfu: s}
	if srv.events == nil {
		srv.events = nopEvents{}
	}
	// Sora accepts SDK pages from any origin; access control is the
	// authenticator's job.
	srv.upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	srv.ctx, srv.cancel = context.WithCancel(context.Background())
	srv.bg.Add(1)
	go srv.runUpdates()
	return srv, nil
}

func (srv *Server) now() time.Time { return srv.cfg.Now() }

func (srv *Server) iceServers() []ICEServer {
	if srv.cfg.ICEServers == nil {
		return []ICEServer{}
	}
	return srv.cfg.ICEServers
}

// Handler returns an http.Handler serving Path and the WHIP and WHEP
// endpoints (whip.go).
func (srv *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle(Path, srv)
	srv.handleWHIP(mux)
	return mux
}

// ServeHTTP upgrades the request and runs the connection until it ends.
func (srv *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	srv.mu.Lock()
	if srv.closing {
		srv.mu.Unlock()
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	srv.wg.Add(1)
	srv.mu.Unlock()
	defer srv.wg.Done()
	ws, err := srv.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	srv.counters.webSockets.Add(1)
	s := newSession(srv, ws)
	s.clientAddr = srv.clientAddress(r)
	s.log = s.log.With("client_address", s.clientAddr)
	srv.mu.Lock()
	srv.all[s] = struct{}{}
	srv.mu.Unlock()
	defer func() {
		srv.mu.Lock()
		delete(srv.all, s)
		srv.mu.Unlock()
	}()
	s.wg.Add(1)
	go s.pingLoop()
	s.run()
}

// Shutdown stops accepting WebSockets, closes every open one with 1000
// "SHUTDOWN" and waits until all have ended or ctx is done.
func (srv *Server) Shutdown(ctx context.Context) error {
	srv.mu.Lock()
	srv.closing = true
	open := make([]*session, 0, len(srv.all))
	for s := range srv.all {
		open = append(open, s)
	}
	srv.mu.Unlock()
	for _, s := range open {
		s.closeWith(websocket.CloseNormalClosure, "SHUTDOWN")
	}
	done := make(chan struct{})
	go func() { srv.endResources("SHUTDOWN"); srv.wg.Wait(); close(done) }()
	select {
	case <-done:
		srv.cancel()
		srv.bg.Wait()
		return nil
	case <-ctx.Done():
		srv.cancel() // aborts pending authentications and offers
		for _, s := range open {
			_ = s.ws.UnderlyingConn().Close()
		}
		<-done
		srv.bg.Wait()
		return fmt.Errorf("signaling shutdown: %w", ctx.Err())
	}
}

// add registers a joined session; false while shutting down.
func (srv *Server) add(s *session) bool {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.closing {
		return false
	}
	srv.sessions[s.conn.ID()] = s
	return true
}

func (srv *Server) remove(s *session) {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.sessions[s.conn.ID()] == s {
		delete(srv.sessions, s.conn.ID())
	}
}

func (srv *Server) lookup(connectionID string) *session {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return srv.sessions[connectionID]
}
