package ingestbench

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"github.com/kiroku-sfu/kiroku/loadgen"
)

// Janus as Debian 12 installs it (make deps-bench): its plugin and
// transport libraries, and the ports it gets inside the namespace.
const (
	janusBinary       = "janus"
	janusLibDir       = "/usr/lib/x86_64-linux-gnu/janus"
	janusHTTPPort     = 8088
	janusAdminPort    = 7088
	janusAdminSecret  = "kiroku-ingest"
	janusRoom         = 1234
	janusConfigFormat = `general: {
	configs_folder = "%[1]s"
	plugins_folder = "%[2]s"
	transports_folder = "%[3]s"
	events_folder = "%[4]s"
	loggers_folder = "%[4]s"
	debug_level = 3
	admin_secret = "%[5]s"
}
media: {
	rtp_port_range = "20000-40000"
}
nat: {
	nice_debug = false
	ice_enforce_list = "%[6]s"
	ignore_mdns = true
}
plugins: {
}
transports: {
}
events: {
	broadcast = false
}
`
	janusHTTPFormat = `general: {
	json = "plain"
	base_path = "/janus"
	http = true
	port = %d
	https = false
}
admin: {
	admin_base_path = "/admin"
	admin_http = true
	admin_port = %d
	admin_https = false
}
`
	janusVideoRoomConfig = "general: {\n}\n"
)

// janusTarget is Janus in the servers' namespace and its publishers.
type janusTarget struct {
	cmd     *exec.Cmd
	dir     string
	done    chan error
	api     *janusAPI
	pubs    []*janusPublisher
	players *players
}

// writeJanusConfig writes janus.jcfg and the two plugin configurations
// under dir/conf, with only the VideoRoom plugin and the HTTP transport
// linked into dir/plugins and dir/transports, and returns the main file.
func writeJanusConfig(dir string) (string, error) {
	conf, plugins, transports, none := filepath.Join(dir, "conf"), filepath.Join(dir, "plugins"),
		filepath.Join(dir, "transports"), filepath.Join(dir, "none")
	for _, d := range []string{conf, plugins, transports, none, filepath.Join(dir, "rec")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return "", fmt.Errorf("janus config: %w", err)
		}
	}
	links := map[string]string{
		filepath.Join(janusLibDir, "plugins", "libjanus_videoroom.so"): filepath.Join(plugins, "libjanus_videoroom.so"),
		filepath.Join(janusLibDir, "transports", "libjanus_http.so"):   filepath.Join(transports, "libjanus_http.so"),
	}
	for from, to := range links {
		if err := os.Symlink(from, to); err != nil {
			return "", fmt.Errorf("janus config: %w", err)
		}
	}
	files := map[string]string{
		"janus.jcfg":                  fmt.Sprintf(janusConfigFormat, conf, plugins, transports, none, janusAdminSecret, serverLink),
		"janus.transport.http.jcfg":   fmt.Sprintf(janusHTTPFormat, janusHTTPPort, janusAdminPort),
		"janus.plugin.videoroom.jcfg": janusVideoRoomConfig,
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(conf, name), []byte(text), 0o644); err != nil {
			return "", fmt.Errorf("janus config: %w", err)
		}
	}
	return filepath.Join(conf, "janus.jcfg"), nil
}

// startJanus starts Janus in ns with its files under dir, creates the
// room (record on or off, recordings in dir/rec), joins n publishers and
// plays clip into them.
func startJanus(ns *serverNS, dir string, clip *loadgen.Clip, n int, record bool) (target, error) {
	conf, err := writeJanusConfig(dir)
	if err != nil {
		return nil, err
	}
	cmd := ns.command(janusBinary, "-C", conf, "-F", filepath.Dir(conf), "-N", "-o", "-L", filepath.Join(dir, "janus.log"))
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start janus (make deps-bench installs it): %w", err)
	}
	j := &janusTarget{cmd: cmd, dir: dir, done: make(chan error, 1), api: &janusAPI{
		base:   fmt.Sprintf("http://%s:%d/janus", serverAddress, janusHTTPPort),
		admin:  fmt.Sprintf("http://%s:%d/admin", serverAddress, janusAdminPort),
		secret: janusAdminSecret, client: &http.Client{}}}
	go func() { j.done <- cmd.Wait() }()
	if err := j.connect(clip, n, record); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "janus.log"))
		return nil, errors.Join(fmt.Errorf("%w\njanus log:\n%s", err, tail(log, 3000)), j.Close())
	}
	return j, nil
}

func (j *janusTarget) connect(clip *loadgen.Clip, n int, record bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := j.waitReady(ctx); err != nil {
		return err
	}
	if err := j.createRoom(ctx, n, record); err != nil {
		return err
	}
	pubs, err := dialAll(ctx, n, func(ctx context.Context, i int) (*janusPublisher, error) {
		return newJanusPublisher(ctx, j.api, janusRoom, i)
	})
	j.pubs = pubs
	if err != nil {
		return err
	}
	writers := make([]loadgen.ClipWriter, len(pubs))
	for i, p := range pubs {
		writers[i] = p
	}
	j.players = startPlayers(clip, writers)
	return nil
}

// waitReady waits for the HTTP API to answer.
func (j *janusTarget) waitReady(ctx context.Context) error {
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, j.api.base+"/info", nil)
		if err != nil {
			return fmt.Errorf("janus: %w", err)
		}
		if _, err = j.api.do(req, "info"); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("janus not ready: %w", err)
		case err := <-j.done:
			j.done <- err
			return fmt.Errorf("janus exited: %v", err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// createRoom creates the room from a session of its own, then ends it.
func (j *janusTarget) createRoom(ctx context.Context, n int, record bool) error {
	session, err := j.api.createSession(ctx)
	if err != nil {
		return err
	}
	handle, err := j.api.attach(ctx, session)
	if err == nil {
		_, err = j.api.message(ctx, session, handle, map[string]any{"request": "create", "room": janusRoom,
			"publishers": n + 4, "bitrate": 0, "fir_freq": 0, "audiocodec": "opus", "videocodec": "vp8",
			"record": record, "rec_dir": filepath.Join(j.dir, "rec"), "notify_joining": false}, nil)
	}
	return errors.Join(err, j.api.destroy(ctx, session))
}

func (j *janusTarget) Pid() int { return j.cmd.Process.Pid }

func (j *janusTarget) Sent() *loadgen.ClipCounters { return &j.players.sent }

// Received adds up every publisher handle's in_stats packet counts.
func (j *janusTarget) Received() (uint64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var total uint64
	for _, p := range j.pubs {
		info, err := j.api.handleInfo(ctx, p.session, p.handle)
		if err != nil {
			return 0, err
		}
		n, err := inPackets(info)
		if err != nil {
			return 0, fmt.Errorf("%w: %s", err, tail(info, 4000))
		}
		total += n
	}
	return total, nil
}

// Recorded is the size of the .mjr files.
func (j *janusTarget) Recorded() (int64, error) { return dirSize(j.dir, "rec") }

// Close stops the players and the publishers, then Janus.
func (j *janusTarget) Close() error {
	if j.players != nil {
		j.players.Stop()
	}
	var wg sync.WaitGroup
	errs := make([]error, len(j.pubs)+1)
	for i, p := range j.pubs {
		wg.Go(func() { errs[i] = p.Close() })
	}
	wg.Wait()
	errs[len(j.pubs)] = stopProcess("janus", j.cmd, j.done, 20*time.Second)
	return errors.Join(errs...)
}

// tail is the end of b, at most n bytes.
func tail(b []byte, n int) []byte { return b[max(0, len(b)-n):] }
