package proccpu

import (
	"errors"
	"os"
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	tail := " S 1 2 3 4 5 6 7 8 9 10 250 75 0 0 20 0 1 0 100 0 0"
	for _, tc := range []struct {
		name string
		line string
		want time.Duration
		err  bool
	}{
		{"plain", "42 (sfu)" + tail, 3250 * time.Millisecond, false},
		{"name with spaces and parens", "42 (a) b (c))" + tail, 3250 * time.Millisecond, false},
		{"nested parens, short tail", "42 (a (b) c) S 1 2 3 4 5 6 7 8 9 10 150 50 0 0", 2 * time.Second, false},
		{"no parens", "42 sfu" + tail, 0, true},
		{"truncated", "42 (sfu) S 1 2 3", 0, true},
		{"not a number", "42 (sfu) S 1 2 3 4 5 6 7 8 9 10 x 75", 0, true},
		{"empty", "", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseStat([]byte(tc.line))
			if tc.err {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("err = %v, want ErrMalformed", err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestProcessOfSelf(t *testing.T) {
	// Burn CPU until the tick-granular counter moves; on a busy machine
	// that can take longer than the burn itself.
	deadline := time.Now().Add(5 * time.Second)
	for {
		d, err := Process(os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		if d > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("Process(self) stayed 0")
		}
		for end := time.Now().Add(20 * time.Millisecond); time.Now().Before(end); {
		}
	}
}

func FuzzParseStat(f *testing.F) {
	f.Add([]byte("42 (sfu) S 1 2 3 4 5 6 7 8 9 10 250 75 0 0 20 0 1 0 100 0 0"))
	f.Add([]byte("1 ()"))
	f.Add([]byte(")))"))
	f.Fuzz(func(t *testing.T, line []byte) {
		if d, err := ParseStat(line); err == nil && d < 0 {
			t.Fatalf("negative cpu %v", d)
		}
	})
}

func TestParseSchedstat(t *testing.T) {
	for _, tc := range []struct {
		line string
		want uint64
		err  bool
	}{
		{"123456 7890 42\n", 42, false},
		{"1 2 18446744073709551615", 18446744073709551615, false},
		{"1 2", 0, true},
		{"1 2 x", 0, true},
		{"", 0, true},
	} {
		got, err := ParseSchedstat([]byte(tc.line))
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("ParseSchedstat(%q) = %d, %v; want %d, error %v", tc.line, got, err, tc.want, tc.err)
		}
	}
}

// TestTimeslicesOfSelf: this process's threads have run, and a thread
// that sleeps and wakes adds timeslices.
func TestTimeslicesOfSelf(t *testing.T) {
	before, err := Timeslices(os.Getpid())
	if err != nil || before == 0 {
		t.Fatalf("Timeslices = %d, %v", before, err)
	}
	for range 20 {
		time.Sleep(time.Millisecond)
	}
	after, err := Timeslices(os.Getpid())
	if err != nil || after < before+10 {
		t.Fatalf("timeslices %d after 20 sleeps, were %d (%v)", after, before, err)
	}
}
