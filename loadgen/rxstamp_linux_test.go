package loadgen

import "testing"

func TestParseRxTimestampRejectsGarbage(t *testing.T) {
	for _, oob := range [][]byte{nil, {1, 2, 3}, make([]byte, 16)} {
		if _, ok := parseRxTimestamp(oob); ok {
			t.Errorf("parseRxTimestamp(%v) found a timestamp", oob)
		}
	}
}
