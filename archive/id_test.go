package archive

import (
	"encoding/base32"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// checkSoraID fails unless id is a UUIDv4 written in Sora's Base32
// alphabet: 26 characters, none of I, L, O, U, version 4, variant 10.
func checkSoraID(id string) error {
	if len(id) != 26 {
		return fmt.Errorf("%q has %d characters, want 26", id, len(id))
	}
	if i := strings.IndexFunc(id, func(r rune) bool { return !strings.ContainsRune(idAlphabet, r) }); i >= 0 {
		return fmt.Errorf("%q: %q is not in Sora's alphabet", id, id[i])
	}
	b, err := base32.NewEncoding(idAlphabet).WithPadding(base32.NoPadding).DecodeString(id)
	if err != nil || len(b) != 16 {
		return fmt.Errorf("%q does not decode to 16 bytes: %v", id, err)
	}
	if b[6]>>4 != 4 {
		return fmt.Errorf("%q: UUID version %d, want 4", id, b[6]>>4)
	}
	if b[8]>>6 != 2 {
		return fmt.Errorf("%q: UUID variant bits %02b, want 10", id, b[8]>>6)
	}
	return nil
}

func TestNewRecordingIDShape(t *testing.T) {
	seen := map[string]bool{}
	for range 2000 {
		id := NewRecordingID()
		if err := checkSoraID(id); err != nil {
			t.Fatal(err)
		}
		if seen[id] {
			t.Fatalf("%q generated twice", id)
		}
		seen[id] = true
	}
	if strings.ContainsAny(idAlphabet, "ILOU") || len(idAlphabet) != 32 {
		t.Errorf("alphabet %q", idAlphabet)
	}
}

// TestCheckSoraIDRejectsOtherShapes shows the check refuses the RFC 4648
// base32 ids kiroku used to make and other near misses.
func TestCheckSoraIDRejectsOtherShapes(t *testing.T) {
	for _, id := range []string{
		"KRSXG5DJNZTSA2LTEBQSA5DF",   // RFC 4648 letters, too short
		"ORSXG5DJNZTSA2LTEBQSA5DFON", // RFC 4648: has O
		"0000000000000000000000000U", // U is not in the alphabet
		"00000000000000000000000000", // version 0
		"0000000000008000000000000Z", // version 4, variant 00
		"0000000000008000400000000",  // 25 characters
	} {
		if checkSoraID(id) == nil {
			t.Errorf("%q accepted", id)
		}
	}
}

// TestManagerRecordingIDIsSoraShaped starts recordings with the Manager's
// own id generator and checks every recording_id it hands out.
func TestManagerRecordingIDIsSoraShaped(t *testing.T) {
	root := t.TempDir()
	cfg := DefaultConfig()
	cfg.ArchiveDir, cfg.TmpDir = filepath.Join(root, "archive"), filepath.Join(root, "tmp")
	m, err := NewManager(cfg, Deps{Clock: newFakeClock(), Notifier: newRecNotifier()})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for i := range 64 {
		ch := fmt.Sprintf("ch%d", i)
		if _, err := m.SessionCreated(ch, "S"+ch, nil); err != nil {
			t.Fatal(err)
		}
		in, err := m.StartRecording(ch, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := checkSoraID(in.RecordingID); err != nil {
			t.Fatal(err)
		}
	}
}
