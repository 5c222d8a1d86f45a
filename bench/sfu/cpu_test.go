package sfubench

import (
	"errors"
	"os"
	"testing"
	"time"
)

func TestParseStatCPU(t *testing.T) {
	tail := " S 1 2 3 4 5 6 7 8 9 10 250 75 0 0 20 0 1 0 100 0 0"
	for _, tc := range []struct {
		name string
		line string
		want time.Duration
		err  bool
	}{
		{"plain", "42 (sfu)" + tail, 3250 * time.Millisecond, false},
		{"name with spaces and parens", "42 (a) b (c))" + tail, 3250 * time.Millisecond, false},
		{"no parens", "42 sfu" + tail, 0, true},
		{"truncated", "42 (sfu) S 1 2 3", 0, true},
		{"not a number", "42 (sfu) S 1 2 3 4 5 6 7 8 9 10 x 75", 0, true},
		{"empty", "", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseStatCPU([]byte(tc.line))
			if tc.err {
				if !errors.Is(err, errStat) {
					t.Fatalf("err = %v, want errStat", err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestProcessCPUOfSelf(t *testing.T) {
	// Burn CPU until the tick-granular counter moves; on a busy machine
	// that can take longer than the burn itself.
	deadline := time.Now().Add(5 * time.Second)
	for {
		d, err := processCPU(os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		if d > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("processCPU(self) stayed 0")
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

func FuzzParseStatCPU(f *testing.F) {
	f.Add([]byte("42 (sfu) S 1 2 3 4 5 6 7 8 9 10 250 75 0 0 20 0 1 0 100 0 0"))
	f.Add([]byte("1 ()"))
	f.Add([]byte(")))"))
	f.Fuzz(func(t *testing.T, line []byte) {
		if d, err := parseStatCPU(line); err == nil && d < 0 {
			t.Fatalf("negative cpu %v", d)
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
