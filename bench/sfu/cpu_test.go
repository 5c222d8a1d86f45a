package sfubench

import (
	"os"
	"testing"
	"time"

	"github.com/kiroku-sfu/kiroku/bench/proccpu"
)

func TestProcessCPUOfSelf(t *testing.T) {
	// Burn CPU until the tick-granular counter moves; on a busy machine
	// that can take longer than the burn itself.
	deadline := time.Now().Add(5 * time.Second)
	for {
		d, err := proccpu.Process(os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		if d > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("proccpu.Process(self) stayed 0")
		}
		for end := time.Now().Add(20 * time.Millisecond); time.Now().Before(end); {
		}
	}
	if self, err := selfCPU(); err != nil || self <= 0 {
		t.Fatalf("selfCPU = %v, %v", self, err)
	}
}

func TestParseSchedstatWait(t *testing.T) {
	for _, tc := range []struct {
		line string
		want time.Duration
		err  bool
	}{
		{"123 456 7\n", 456, false},
		{"0 0 0", 0, false},
		{"123", 0, true},
		{"1 -5 2", 0, true},
		{"1 x 2", 0, true},
	} {
		got, err := parseSchedstatWait([]byte(tc.line))
		if tc.err != (err != nil) || got != tc.want {
			t.Errorf("parseSchedstatWait(%q) = %v, %v; want %v (error %v)", tc.line, got, err, tc.want, tc.err)
		}
	}
	if _, err := runQueueWait(os.Getpid()); err != nil {
		t.Fatal(err)
	}
}

func FuzzParseSchedstatWait(f *testing.F) {
	f.Add([]byte("123 456 7"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, line []byte) {
		if d, err := parseSchedstatWait(line); err == nil && d < 0 {
			t.Fatalf("negative wait %v", d)
		}
	})
}

// TestProcessRunTime checks that the run time read from schedstat grows
// by about the CPU this process spends between two reads.
func TestProcessRunTime(t *testing.T) {
	before, err := processRunTime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	cpu0, err := selfCPU()
	if err != nil {
		t.Fatal(err)
	}
	for x, end := 0, time.Now().Add(100*time.Millisecond); time.Now().Before(end); x++ {
		_ = x * x
	}
	cpu1, err := selfCPU()
	if err != nil {
		t.Fatal(err)
	}
	after, err := processRunTime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if ran, spent := after-before, cpu1-cpu0; ran < spent/2 || ran > 2*spent+20*time.Millisecond {
		t.Fatalf("schedstat says %v ran, getrusage %v", ran, spent)
	}
	if _, err := processRunTime(1 << 30); err == nil {
		t.Fatal("no error for a process that does not exist")
	}
}
