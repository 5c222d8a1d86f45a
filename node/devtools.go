package node

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"reflect"

	"github.com/kiroku-sfu/kiroku/devtools"
	"github.com/kiroku-sfu/kiroku/signaling"
)

// devToolsExposure applies devtools.Config.Decide to these settings:
// "built-in defaults" means every setting but dev_tools is at its default,
// as when `make run` starts the SFU without a configuration file.
func (st Settings) devToolsExposure() devtools.Exposure {
	return st.tools.Decide(st.serve.SignalingLoopbackOnly, st.atDefaults())
}

// atDefaults reports whether st, dev_tools aside, equals the settings of
// no configuration file.
func (st Settings) atDefaults() bool {
	d, err := LoadSettings("")
	if err != nil {
		return false
	}
	d.tools, st.tools = devtools.Config{}, devtools.Config{}
	return reflect.DeepEqual(st, d)
}

// listenSignaling serves signaling on the signaling port, with the dev
// tools pages beside it when they are on.
func listenSignaling(st Settings, sig http.Handler, logger *slog.Logger) (*listener, error) {
	h, err := signalingHandler(st, sig, logger)
	if err != nil {
		return nil, err
	}
	return listen(st.serve.SignalingPort, st.serve.SignalingLoopbackOnly, h)
}

// signalingHandler returns sig alone, or a mux where the dev tools own `/`
// and their few paths and sig everything else.
func signalingHandler(st Settings, sig http.Handler, logger *slog.Logger) (http.Handler, error) {
	exposure := st.devToolsExposure()
	if exposure == devtools.Off {
		return sig, nil
	}
	dt, err := devtools.New(devtools.Options{ArchiveDir: st.archive.ArchiveDir, APIPort: st.serve.APIPort,
		SignalingPath: signaling.Path, LoopbackClientsOnly: exposure == devtools.LoopbackClients,
		Logger: logger.With("component", "devtools")})
	if err != nil {
		return nil, fmt.Errorf("dev tools: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", sig)
	dt.Register(mux)
	return mux, nil
}

// printDevTools tells where the dev tools page is, when it is on.
func printDevTools(w io.Writer, st Settings, addr net.Addr) {
	switch st.devToolsExposure() {
	case devtools.Everyone:
		fmt.Fprintf(w, "kiroku: dev tools on http://%s/\n", displayAddr(addr))
	case devtools.LoopbackClients:
		fmt.Fprintf(w, "kiroku: dev tools on http://%s/ (loopback clients only)\n", displayAddr(addr))
	}
}
