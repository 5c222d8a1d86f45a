package sfu

import (
	"slices"
	"sort"
	"testing"
	"time"
)

// speech is one publisher's audio in a detector table: a level every
// 20 ms from `from` to `to` (milliseconds of the test's clock).
type speech struct {
	id       string
	from, to int
	level    uint8
}

// feed plays speeches into sp's members as packets every 20 ms, deciding
// every focusEval, and returns the focus after each decision (sorted ids
// joined by ",") by millisecond.
func feed(sp *spotlight, speeches []speech, until int) map[int]string {
	base := time.Unix(1000, 0)
	out := map[int]string{}
	for ms := 0; ms <= until; ms += 20 {
		now := base.Add(time.Duration(ms) * time.Millisecond)
		for _, s := range speeches {
			level := uint8(127)
			if ms >= s.from && ms < s.to {
				level = s.level
			}
			sp.member(s.id).voice.observe(level, now)
		}
		if ms%int(focusEval/time.Millisecond) == 0 {
			sp.decide(now)
			out[ms] = focusedIDs(sp)
		}
	}
	return out
}

func focusedIDs(sp *spotlight) string {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	var ids []string
	for id, m := range sp.members {
		if m.focused {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	s := ""
	for i, id := range ids {
		if i > 0 {
			s += ","
		}
		s += id
	}
	return s
}

func newTestSpotlight(number int, ids ...string) *spotlight {
	sp := newSpotlight(number)
	for i, id := range ids {
		sp.add(id, time.Unix(0, int64(i)))
	}
	return sp
}

// TestSpotlightDetector: the voice activity detector's decisions over
// time, as tables of speech and the expected focus at given moments.
func TestSpotlightDetector(t *testing.T) {
	cases := []struct {
		name     string
		number   int
		speeches []speech
		until    int
		want     map[int]string // ms -> focused ids
	}{
		{name: "a speaker is focused after minSpeech", number: 1,
			speeches: []speech{{"a", 0, 3000, 20}, {"b", 0, 0, 20}}, until: 3000,
			want: map[int]string{400: "", 600: "a", 3000: "a"}},
		{name: "a cough does not take the focus", number: 1,
			speeches: []speech{{"a", 0, 300, 10}, {"b", 1000, 1300, 10}}, until: 3000,
			want: map[int]string{200: "", 1200: "", 3000: ""}},
		{name: "quiet audio is not voice", number: 1,
			speeches: []speech{{"a", 0, 3000, voicedLevel + 1}}, until: 3000,
			want: map[int]string{3000: ""}},
		{name: "the focus stays with a silent speaker until another speaks", number: 1,
			speeches: []speech{{"a", 0, 1000, 20}, {"b", 0, 0, 20}}, until: 6000,
			want: map[int]string{6000: "a"}},
		{name: "the focus moves focusHold after the speaker's end", number: 1,
			speeches: []speech{{"a", 0, 2000, 20}, {"b", 2000, 8000, 20}}, until: 8000,
			// a's last voice at 1980: b takes over from 3480 on.
			want: map[int]string{3400: "a", 3600: "b", 8000: "b"}},
		{name: "a second speaker waits while the first goes on", number: 1,
			speeches: []speech{{"a", 0, 8000, 30}, {"b", 1000, 8000, 10}}, until: 8000,
			want: map[int]string{8000: "a"}},
		{name: "two slots take the two speakers, louder first", number: 2,
			speeches: []speech{{"a", 0, 4000, 40}, {"b", 0, 4000, 10}, {"c", 0, 4000, 30}}, until: 4000,
			want: map[int]string{600: "b,c", 4000: "b,c"}},
		{name: "a replacement waits minSwitch after the last", number: 1,
			speeches: []speech{{"a", 0, 600, 20}, {"b", 600, 2400, 20}, {"c", 2300, 6000, 20}}, until: 6000,
			// a focused at 500; a silent from 580, b replaces it at 2080;
			// b silent from 2380, c may replace it at 3880.
			want: map[int]string{500: "a", 2000: "a", 2100: "b", 3800: "b", 4000: "c"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var ids []string
			for _, s := range tc.speeches {
				ids = append(ids, s.id)
			}
			sp := newTestSpotlight(tc.number, ids...)
			got := feed(sp, tc.speeches, tc.until)
			for ms, want := range tc.want {
				if got[ms] != want {
					t.Errorf("at %d ms focused %q, want %q", ms, got[ms], want)
				}
			}
		})
	}
}

// TestSpotlightAPIFocus: focus by the API, fixed and not, and the
// spotlight number.
func TestSpotlightAPIFocus(t *testing.T) {
	base := time.Unix(1000, 0)
	at := func(ms int) time.Time { return base.Add(time.Duration(ms) * time.Millisecond) }
	sp := newTestSpotlight(1, "a", "b", "c")
	ch, err := sp.focus("a", true, at(0))
	if err != nil || len(ch) != 1 || ch[0] != (focusChange{id: "a", focused: true, fixed: true}) {
		t.Fatalf("fixed focus: %v %v", ch, err)
	}
	// b speaks for long: a stays pinned.
	for ms := 0; ms <= 5000; ms += 20 {
		sp.member("b").voice.observe(10, at(ms))
		if ms%100 == 0 {
			sp.decide(at(ms))
		}
	}
	if got := focusedIDs(sp); got != "a" {
		t.Fatalf("focused %q while a is fixed, want a", got)
	}
	ch, err = sp.unfocus("a", at(5000))
	if err != nil || len(ch) != 1 || ch[0].focused {
		t.Fatalf("unfocus: %v %v", ch, err)
	}
	sp.member("b").voice.observe(10, at(5020))
	sp.decide(at(5020))
	if got := focusedIDs(sp); got != "b" {
		t.Fatalf("after unfocus focused %q, want the speaker b", got)
	}
	// A plain focus takes b's slot at once.
	ch, _ = sp.focus("c", false, at(5040))
	if !slices.Equal(ch, []focusChange{{id: "b"}, {id: "c", focused: true}}) {
		t.Fatalf("focus c: changes %v", ch)
	}
	if err := sp.setNumber(2); err != nil {
		t.Fatal(err)
	}
	sp.member("b").voice.observe(10, at(5060))
	sp.decide(at(5060))
	if got := focusedIDs(sp); got != "b,c" {
		t.Fatalf("with number 2 focused %q, want b,c", got)
	}
	if err := sp.setNumber(1); err != nil {
		t.Fatal(err)
	}
	sp.decide(at(5080))
	if got := focusedIDs(sp); len(got) != 1 {
		t.Fatalf("with number 1 focused %q, want one", got)
	}
	for _, n := range []int{0, MaxSpotlightNumber + 1} {
		if err := sp.setNumber(n); err == nil {
			t.Errorf("number %d accepted", n)
		}
	}
	if _, err := sp.focus("nobody", false, at(6000)); err == nil {
		t.Error("focus of an unknown publisher accepted")
	}
}

// TestSpotlightOrdered: unfocus notifies go first, and one publisher
// changed twice in a decision keeps its last change.
func TestSpotlightOrdered(t *testing.T) {
	got := ordered([]focusChange{{id: "a", focused: true}, {id: "b"}, {id: "a"}, {id: "c", focused: true}})
	want := []focusChange{{id: "b"}, {id: "a"}, {id: "c", focused: true}}
	if !slices.Equal(got, want) {
		t.Fatalf("ordered %v, want %v", got, want)
	}
}
