package e2e

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestServeTimerSlack checks that timer_slack reaches the running SFU (it
// re-executes itself to get there, keeping its process id) and that 0
// leaves the inherited slack alone.
func TestServeTimerSlack(t *testing.T) {
	bin := buildSFU(t)
	inherited, err := os.ReadFile("/proc/self/timerslack_ns")
	if err != nil {
		t.Fatalf("read own timer slack: %v", err)
	}
	for _, tc := range []struct{ conf, want string }{
		{"timer_slack = 1 ms", "1000000"},
		{"timer_slack = 2 ms", "2000000"},
		{"timer_slack = 0 s", strings.TrimSpace(string(inherited))},
	} {
		t.Run(tc.conf, func(t *testing.T) {
			port := freePort(t)
			conf := writeConfig(t, fmt.Sprintf("signaling_listen_port = %d\napi_listen_port = %d\nudp_port = %d\n"+
				"signaling_loopback_address_only = true\nipv4_address = %s\n%s\n", port, freePort(t), freeUDPPort(t), mediaAddress, tc.conf))
			cmd := exec.Command(bin, "-config", conf)
			cmd.Dir = t.TempDir()
			cmd.Stderr = os.Stderr
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
			if line, err := bufio.NewReader(stdout).ReadString('\n'); err != nil || !strings.Contains(line, fmt.Sprint(port)) {
				t.Fatalf("first output %q (%v): the SFU did not start", line, err)
			}
			// Linux shows the slack of the main thread only; the others
			// inherit it from the thread that created them.
			got, err := os.ReadFile(fmt.Sprintf("/proc/%d/timerslack_ns", cmd.Process.Pid))
			if err != nil {
				t.Fatal(err)
			}
			if strings.TrimSpace(string(got)) != tc.want {
				t.Errorf("timer slack %s ns, want %s", strings.TrimSpace(string(got)), tc.want)
			}
		})
	}
}
