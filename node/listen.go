package node

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// listener is one HTTP server on its own port, on one socket or, when
// loopback only, on one per loopback address.
type listener struct {
	srv    *http.Server
	addr   net.Addr   // the first socket's, printed
	served chan error // every Serve's result; the first one means a socket stopped
	wg     sync.WaitGroup
}

// listen serves h on port: on every address of both families ([::],
// which takes IPv4 too), or, loopback only, on 127.0.0.1 and [::1] (the
// latter left out on a host without IPv6).
func listen(port uint16, loopbackOnly bool, h http.Handler) (*listener, error) {
	lns, err := listenTCP(port, loopbackOnly)
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	l := &listener{srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}, addr: lns[0].Addr(),
		served: make(chan error, len(lns))}
	for _, ln := range lns {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			l.served <- l.srv.Serve(ln)
		}()
	}
	return l, nil
}

// listenTCP opens the sockets listen serves on.
func listenTCP(port uint16, loopbackOnly bool) ([]net.Listener, error) {
	if !loopbackOnly {
		// Go's wildcard listener is [::] with IPV6_V6ONLY off, or 0.0.0.0
		// on a host without IPv6.
		ln, err := net.Listen("tcp", net.JoinHostPort("", strconv.Itoa(int(port))))
		if err != nil {
			return nil, err
		}
		return []net.Listener{ln}, nil
	}
	ln4, err := net.Listen("tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(int(port))))
	if err != nil {
		return nil, err
	}
	p := strconv.Itoa(ln4.Addr().(*net.TCPAddr).Port)
	ln6, err := net.Listen("tcp6", net.JoinHostPort("::1", p))
	switch {
	case errors.Is(err, syscall.EADDRNOTAVAIL) || errors.Is(err, syscall.EAFNOSUPPORT):
		return []net.Listener{ln4}, nil // no IPv6 loopback on this host
	case err != nil:
		return nil, errors.Join(err, ln4.Close())
	}
	return []net.Listener{ln4, ln6}, nil
}

// stop closes the sockets and waits for every Serve to return.
func (l *listener) stop(ctx context.Context) error {
	err := l.srv.Shutdown(ctx)
	l.wg.Wait()
	for {
		select {
		case serr := <-l.served:
			if !errors.Is(serr, http.ErrServerClosed) {
				err = errors.Join(err, serr)
			}
		default:
			return err
		}
	}
}
