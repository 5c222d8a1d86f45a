package e2e

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// userPage is one dev tools tab driven by clicks (devtools-driver.mjs).
type userPage struct {
	t    *testing.T
	name string
	p    *page
}

// startUserBrowser launches a Chromium behind devtools-driver.mjs; it is
// closed when the test ends.
func startUserBrowser(t *testing.T) *browser {
	t.Helper()
	b, err := startDriver(browserDir, "devtools-driver.mjs")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.close() })
	return b
}

// startDriver launches node on a driver script of dir that speaks
// driver.mjs's line protocol (browser_test.go's startBrowser runs that one).
func startDriver(dir, script string) (*browser, error) {
	cmd := exec.Command("node", script)
	cmd.Dir = dir
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", script, err)
	}
	b := &browser{cmd: cmd, stdin: stdin, replies: bufio.NewScanner(stdout)}
	b.replies.Buffer(make([]byte, 1<<20), 16<<20)
	var ready driverReply
	if err := b.read(&ready); err != nil || !ready.OK {
		_ = b.close()
		return nil, fmt.Errorf("%s did not start: %v %s", script, err, ready.Error)
	}
	return b, nil
}

// openUser opens url in a new tab of b.
func openUser(t *testing.T, b *browser, name, url string) *userPage {
	t.Helper()
	p, err := b.open(url)
	if err != nil {
		t.Fatalf("%s: open %s: %v", name, url, err)
	}
	return &userPage{t: t, name: name, p: p}
}

// act runs one user action (click, fill, select, check) on selector.
func (u *userPage) act(op, selector string, value any) {
	u.t.Helper()
	if err := u.p.b.do(map[string]any{"op": op, "page": u.p.id, "selector": selector, "value": value}, nil); err != nil {
		u.t.Fatalf("%s: %s %s: %v", u.name, op, selector, err)
	}
}

// text returns the text of the element selector names.
func (u *userPage) text(selector string) string {
	u.t.Helper()
	var s string
	if err := u.p.b.do(map[string]any{"op": "text", "page": u.p.id, "selector": selector}, &s); err != nil {
		u.t.Fatalf("%s: text of %s: %v", u.name, selector, err)
	}
	return s
}

// number evaluates a JavaScript expression that yields a number.
func (u *userPage) number(expr string) float64 {
	u.t.Helper()
	var n float64
	if err := u.p.eval(expr, &n); err != nil {
		u.t.Fatalf("%s: %s: %v", u.name, expr, err)
	}
	return n
}

// waitText waits until selector's text matches re and returns the match.
func (u *userPage) waitText(selector string, re *regexp.Regexp, timeout time.Duration) []string {
	u.t.Helper()
	var m []string
	waitFor(u.t, fmt.Sprintf("%s: %s to match %s", u.name, selector, re), timeout, func() string {
		text := u.text(selector)
		if m = re.FindStringSubmatch(text); m == nil {
			return fmt.Sprintf("text %q", text)
		}
		return ""
	})
	return m
}

// publishFrom opens the Publish page, chooses the options as a user would
// and presses Publish; it returns the tab and its connection id.
func publishFrom(t *testing.T, b *browser, base, name, channel, codec, resolution string, audio bool) (*userPage, string) {
	t.Helper()
	u := openUser(t, b, name, base+"/")
	u.act("fill", "#channel", channel)
	u.act("select", "#codec", codec)
	u.act("select", "#resolution", resolution)
	u.act("check", "#audio", audio)
	u.act("check", "#video", true)
	u.act("click", "#publish", nil)
	m := u.waitText("#status", regexp.MustCompile(`^Publishing to \S+ as (\S+)$`), 30*time.Second)
	return u, m[1]
}

// TestDevToolsPage uses the dev tools page as a user would, against the
// SFU binary with its default dev_tools (on: signaling is loopback-only):
// two publishers with different codecs, a viewer that sees both, a
// recording started and stopped from the Recordings page through the HTTP
// API (cross-origin), the new file listed and played in the browser, and a
// publisher's Stop taking its stream off the viewer's page.
func TestDevToolsPage(t *testing.T) {
	s := startRecServer(t, &hookLog{}, "")
	base := strings.TrimSuffix(strings.Replace(s.ws, "ws://", "http://", 1), "/signaling")
	b := startUserBrowser(t)
	const channel = "devtools-room"

	_, pubA := publishFrom(t, b, base, "publisher A", channel, "VP8", "640x480", true)
	tabB, pubB := publishFrom(t, b, base, "publisher B", channel, "VP9", "320x240", false)

	viewer := openUser(t, b, "viewer", base+"/view.html")
	viewer.act("fill", "#channel", channel)
	viewer.act("click", "#connect", nil)
	viewer.waitText("#status", regexp.MustCompile(`^Viewing `+channel+` as \S+$`), 30*time.Second)
	for _, id := range []string{pubA, pubB} {
		sel := fmt.Sprintf(`document.querySelector('#remotes video[data-connection-id="%s"]')`, id)
		waitFor(t, "viewer playing "+id, 45*time.Second, func() string {
			if n := viewer.number(fmt.Sprintf("%s?.currentTime ?? -1", sel)); n < 1 {
				return fmt.Sprintf("currentTime %v", n)
			}
			if w := viewer.number(sel + ".videoWidth"); w == 0 {
				return "no decoded picture"
			}
			return ""
		})
	}

	rec := openUser(t, b, "recordings", base+"/recordings.html")
	rec.act("fill", "#channel", channel)
	rec.act("select", "#format", "webm")
	rec.act("click", "#start", nil)
	rid := rec.waitText("#rec-status", regexp.MustCompile(`^Recording \S+: recording_id (\S+) \(webm\)$`), 20*time.Second)[1]
	time.Sleep(6 * time.Second) // record a few seconds of both publishers
	rec.act("click", "#stop", nil)
	rec.waitText("#rec-status", regexp.MustCompile(`^Stopped recording `+regexp.QuoteMeta(rid)+`;`), 20*time.Second)

	file := "archive-" + pubA + ".webm"
	row := fmt.Sprintf(`tr[data-recording-id="%s"][data-file="%s"]`, rid, file)
	waitFor(t, "the new file listed", 30*time.Second, func() string {
		rec.act("click", "#refresh", nil)
		if n := rec.count(row); n != 1 {
			return fmt.Sprintf("%d rows for %s; list: %s", n, file, rec.text("#list-status"))
		}
		return ""
	})
	if _, err := os.Stat(filepath.Join(s.archive, rid, file)); err != nil {
		t.Fatalf("listed file is not in archive_dir: %v", err)
	}
	rec.act("click", row+" button.play", nil)
	waitFor(t, "the recording playing", 30*time.Second, func() string {
		if e := rec.number(`document.querySelector('#player').error?.code ?? 0`); e != 0 {
			t.Fatalf("player error code %v", e)
		}
		if n := rec.number(`document.querySelector('#player').currentTime`); n <= 2 {
			return fmt.Sprintf("currentTime %v", n)
		}
		return ""
	})

	// Publisher B presses Stop: its stream leaves the viewer's page.
	tabB.act("click", "#stop", nil)
	tabB.waitText("#status", regexp.MustCompile(`^Stopped\.$`), 10*time.Second)
	waitFor(t, "publisher B gone from the viewer", 20*time.Second, func() string {
		if n := viewer.count(fmt.Sprintf(`#remotes video[data-connection-id="%s"]`, pubB)); n != 0 {
			return fmt.Sprintf("%d videos of B", n)
		}
		return ""
	})
}

// count returns how many elements selector matches.
func (u *userPage) count(selector string) int {
	u.t.Helper()
	var n int
	if err := u.p.b.do(map[string]any{"op": "count", "page": u.p.id, "selector": selector}, &n); err != nil {
		u.t.Fatalf("%s: count %s: %v", u.name, selector, err)
	}
	return n
}
