package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"time"
)

// browser is one headless Chromium behind driver.mjs.
type browser struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser

	mu      sync.Mutex // one command at a time
	replies *bufio.Scanner
	nextID  int
}

type driverReply struct {
	ID     int             `json:"id"`
	OK     bool            `json:"ok"`
	Result json.RawMessage `json:"result"`
	Error  string          `json:"error"`
}

// startBrowser launches the driver; page console output goes to stderr.
func startBrowser(dir string) (*browser, error) {
	return startBrowserCmd(exec.Command("node", "driver.mjs"), dir)
}

// startBrowserCmd launches the driver with cmd (node driver.mjs, perhaps
// run in another network namespace) in dir.
func startBrowserCmd(cmd *exec.Cmd, dir string) (*browser, error) {
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
		return nil, fmt.Errorf("start driver: %w", err)
	}
	b := &browser{cmd: cmd, stdin: stdin, replies: bufio.NewScanner(stdout)}
	b.replies.Buffer(make([]byte, 1<<20), 16<<20)
	var ready driverReply
	if err := b.read(&ready); err != nil || !ready.OK {
		_ = b.close()
		return nil, fmt.Errorf("driver did not start: %v %s", err, ready.Error)
	}
	return b, nil
}

func (b *browser) read(r *driverReply) error {
	if !b.replies.Scan() {
		return fmt.Errorf("driver output ended: %v", b.replies.Err())
	}
	return json.Unmarshal(b.replies.Bytes(), r)
}

// do sends one command and decodes its result into out (if not nil).
func (b *browser) do(cmd map[string]any, out any) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.nextID++
	cmd["id"] = b.nextID
	line, err := json.Marshal(cmd)
	if err != nil {
		return err
	}
	if _, err := b.stdin.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("driver write: %w", err)
	}
	var r driverReply
	if err := b.read(&r); err != nil {
		return err
	}
	if r.ID != b.nextID {
		return fmt.Errorf("driver answered %d, want %d", r.ID, b.nextID)
	}
	if !r.OK {
		return fmt.Errorf("driver %v: %s", cmd["op"], r.Error)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(r.Result, out)
}

// page is one browser tab.
type page struct {
	b  *browser
	id int
}

func (b *browser) open(url string) (*page, error) {
	var id int
	if err := b.do(map[string]any{"op": "open", "url": url}, &id); err != nil {
		return nil, err
	}
	return &page{b: b, id: id}, nil
}

// eval evaluates a JavaScript expression (promises are awaited).
func (p *page) eval(expr string, out any) error {
	return p.b.do(map[string]any{"op": "eval", "page": p.id, "expr": expr}, out)
}

// call evaluates kiroku.fn(arg) with arg passed as JSON.
func (p *page) call(fn string, arg any, out any) error {
	a, err := json.Marshal(arg)
	if err != nil {
		return err
	}
	return p.eval(fmt.Sprintf("kiroku.%s(%s)", fn, a), out)
}

func (p *page) close() error {
	return p.b.do(map[string]any{"op": "close", "page": p.id}, nil)
}

// close ends the driver (closing stdin closes the browser) and waits.
func (b *browser) close() error {
	_ = b.stdin.Close()
	done := make(chan error, 1)
	go func() { done <- b.cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(20 * time.Second):
		_ = b.cmd.Process.Kill()
		return <-done
	}
}
