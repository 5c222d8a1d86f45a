package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"

	"github.com/kiroku-sfu/kiroku/metrics"
	"github.com/kiroku-sfu/kiroku/signaling"
)

// Serve builds the components, serves signaling and the API until ctx
// ends or a listener fails, then shuts down within the configured time.
// It prints the listeners' addresses to stdout and logs into logger.
func Serve(ctx context.Context, st Settings, logger *slog.Logger, stdout io.Writer) error {
	return ServeLogs(ctx, st, &Logs{Logger: logger}, stdout)
}

// ServeLogs is Serve logging into logs; while it runs, logs.Reopen also
// reopens the components' log files (the webhook logs).
func ServeLogs(ctx context.Context, st Settings, logs *Logs, stdout io.Writer) error {
	logger := logs.Logger
	c, err := build(st, logger)
	if err != nil {
		return err
	}
	defer logs.attach(c.hooks.ReopenLogs)()
	if err := c.recoverArchives(logger); err != nil {
		return errors.Join(err, c.shutdown(context.Background()))
	}
	sigL, err := listenSignaling(st, c.sig.Handler(), logger)
	if err != nil {
		return errors.Join(err, c.shutdown(context.Background()))
	}
	apiH, err := c.apiHandler()
	if err != nil {
		return errors.Join(err, sigL.stop(context.Background()), c.shutdown(context.Background()))
	}
	apiL, err := listen(st.serve.APIPort, st.serve.APILoopbackOnly, apiH)
	if err != nil {
		return errors.Join(err, sigL.stop(context.Background()), c.shutdown(context.Background()))
	}
	fmt.Fprintf(stdout, "kiroku: signaling on ws://%s%s\n", displayAddr(sigL.addr), signaling.Path)
	printDevTools(stdout, st, sigL.addr)
	fmt.Fprintf(stdout, "kiroku: HTTP API on http://%s/ (metrics at %s)\n", displayAddr(apiL.addr), metrics.Path)
	if c.turn != nil {
		fmt.Fprintf(stdout, "kiroku: TURN on %s (clients told to relay only)\n", strings.Join(c.turn.URLs(), " "))
	}
	if p := st.sfu.UDPPort; p != 0 {
		fmt.Fprintf(stdout, "kiroku: media on UDP port %d\n", p)
	} else {
		fmt.Fprintf(stdout, "kiroku: media on UDP ports %d-%d\n", st.sfu.UDPPortMin, st.sfu.UDPPortMax)
	}
	logger.Info("serving", "signaling", sigL.addr.String(), "api", apiL.addr.String())
	select {
	case <-ctx.Done():
	case <-sigL.served:
		err = errors.New("signaling listener stopped")
	case <-apiL.served:
		err = errors.New("api listener stopped")
	}
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), st.serve.ShutdownTimeout)
	defer cancel()
	if err != nil {
		return errors.Join(err, c.shutdown(sctx))
	}
	return errors.Join(sigL.stop(sctx), apiL.stop(sctx), c.shutdown(sctx))
}

// displayAddr names a wildcard listener by 127.0.0.1 so the printed URL
// works as is.
func displayAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok || !tcp.IP.IsUnspecified() {
		return a.String()
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(tcp.Port))
}
