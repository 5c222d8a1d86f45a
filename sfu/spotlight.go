package sfu

import (
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Spotlight numbers: how many publishers a spotlight channel focuses at
// once (Sora's spotlight_number).
const (
	DefaultSpotlightNumber = 1
	MaxSpotlightNumber     = 8
)

// The layers a spotlight viewer gets of focused and unfocused simulcast
// publishers unless it asks otherwise (spotlight_focus_rid,
// spotlight_unfocus_rid).
const (
	defaultFocusLayer   = simulcastLayers - 1 // r2
	defaultUnfocusLayer = 0                   // r0
)

// spotlight is a spotlight channel's focus: which publishers every
// viewer gets at the focus layer. Publishers are focused by their voice
// (spotlightvoice.go: the spotlight number loudest current speakers) or
// by the API. Its methods are safe for concurrent use.
type spotlight struct {
	nextEval atomic.Int64 // unix nanoseconds of the next decision

	mu          sync.Mutex
	number      int
	members     map[string]*spotMember // publishers, by connection id
	lastReplace time.Time              // a speaker last replaced another
}

// spotMember is one publisher of a spotlight channel.
type spotMember struct {
	id        string
	joined    time.Time
	voice     voice
	focused   bool
	fixed     bool // FocusSpotlightFixed: kept until UnfocusSpotlight
	focusedAt time.Time
}

// focusChange is one publisher focused or unfocused.
type focusChange struct {
	id      string
	focused bool
	fixed   bool
}

func newSpotlight(number int) *spotlight {
	if number == 0 {
		number = DefaultSpotlightNumber
	}
	return &spotlight{number: number, members: make(map[string]*spotMember)}
}

// ValidSpotlightNumber reports whether n is a spotlight number kiroku
// accepts (1 to MaxSpotlightNumber; 0 means the default).
func ValidSpotlightNumber(n int) bool { return n >= 0 && n <= MaxSpotlightNumber }

// add makes the publisher id a member, unfocused.
func (sp *spotlight) add(id string, now time.Time) *spotMember {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	m := &spotMember{id: id, joined: now}
	sp.members[id] = m
	return m
}

// member returns the publisher id, or nil.
func (sp *spotlight) member(id string) *spotMember {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return sp.members[id]
}

// remove forgets a publisher that left; its slot is filled at the next
// decision.
func (sp *spotlight) remove(id string) {
	sp.mu.Lock()
	delete(sp.members, id)
	sp.mu.Unlock()
}

// isFocused reports whether the publisher id is focused.
func (sp *spotlight) isFocused(id string) bool {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	m := sp.members[id]
	return m != nil && m.focused
}

// Number returns the spotlight number.
func (sp *spotlight) Number() int {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return sp.number
}

// due reports whether a decision is due at now, at most one caller per
// focusEval.
func (sp *spotlight) due(now time.Time) bool {
	n, next := now.UnixNano(), sp.nextEval.Load()
	return n >= next && sp.nextEval.CompareAndSwap(next, n+int64(focusEval))
}

// decide updates the focus at now: too many focused (the number went
// down) lose the focus, least recently active first; free slots go to
// the loudest candidates; and, at most once per minSwitch, a candidate
// takes the slot of the focused speaker silent for longest once that
// one has been silent for focusHold.
func (sp *spotlight) decide(now time.Time) []focusChange {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	var changes []focusChange
	for sp.focusedCount() > sp.number {
		victim := sp.leastActive(now, 0)
		if victim == nil {
			break
		}
		changes = append(changes, victim.set(false, false, now))
	}
	cands := sp.candidates(now)
	for len(cands) > 0 && sp.focusedCount() < sp.number {
		changes = append(changes, cands[0].set(true, false, now))
		cands = cands[1:]
	}
	if len(cands) > 0 && now.Sub(sp.lastReplace) >= minSwitch {
		if victim := sp.leastActive(now, focusHold); victim != nil {
			changes = append(changes, victim.set(false, false, now), cands[0].set(true, false, now))
			sp.lastReplace = now
		}
	}
	return changes
}

func (sp *spotlight) focusedCount() int {
	n := 0
	for _, m := range sp.members {
		if m.focused {
			n++
		}
	}
	return n
}

// candidates are the unfocused publishers that may take the focus,
// loudest first (then longest speaking, then earliest joined).
func (sp *spotlight) candidates(now time.Time) []*spotMember {
	type cand struct {
		m  *spotMember
		st voiceState
	}
	var cs []cand
	for _, m := range sp.members {
		if st := m.voice.state(now); !m.focused && st.candidate() {
			cs = append(cs, cand{m, st})
		}
	}
	sort.Slice(cs, func(i, j int) bool {
		a, b := cs[i], cs[j]
		switch {
		case a.st.loudness != b.st.loudness:
			return a.st.loudness > b.st.loudness
		case a.st.run != b.st.run:
			return a.st.run > b.st.run
		}
		return a.m.joined.Before(b.m.joined)
	})
	out := make([]*spotMember, len(cs))
	for i, c := range cs {
		out[i] = c.m
	}
	return out
}

// idle is how long a focused member has been neither speaking nor
// focused anew.
func (m *spotMember) idle(now time.Time) time.Duration {
	return min(m.voice.state(now).silent, now.Sub(m.focusedAt))
}

// leastActive is the focused, unfixed member idle for longest, at least
// for atLeast; nil when none.
func (sp *spotlight) leastActive(now time.Time, atLeast time.Duration) *spotMember {
	var best *spotMember
	var bestIdle time.Duration
	for _, m := range sp.members {
		if !m.focused || m.fixed {
			continue
		}
		idle := m.idle(now)
		if idle < atLeast {
			continue
		}
		if best == nil || idle > bestIdle || (idle == bestIdle && m.joined.Before(best.joined)) {
			best, bestIdle = m, idle
		}
	}
	return best
}

// set changes the member's focus and returns the change.
func (m *spotMember) set(focused, fixed bool, now time.Time) focusChange {
	m.focused, m.fixed = focused, fixed
	if focused {
		m.focusedAt = now
	}
	return focusChange{id: m.id, focused: focused, fixed: fixed}
}

// focus focuses the publisher id (fixed: until unfocused), taking the
// slot of the least active unfixed focused publisher when all are taken.
func (sp *spotlight) focus(id string, fixed bool, now time.Time) ([]focusChange, error) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	m := sp.members[id]
	if m == nil {
		return nil, fmt.Errorf("spotlight publisher %q: %w", id, ErrNotFound)
	}
	if m.focused && m.fixed == fixed {
		return nil, nil
	}
	var changes []focusChange
	if !m.focused && sp.focusedCount() >= sp.number {
		if victim := sp.leastActive(now, 0); victim != nil {
			changes = append(changes, victim.set(false, false, now))
		}
	}
	return append(changes, m.set(true, fixed, now)), nil
}

// unfocus removes the publisher id's focus, fixed or not.
func (sp *spotlight) unfocus(id string, now time.Time) ([]focusChange, error) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	m := sp.members[id]
	if m == nil {
		return nil, fmt.Errorf("spotlight publisher %q: %w", id, ErrNotFound)
	}
	if !m.focused {
		return nil, nil
	}
	return []focusChange{m.set(false, false, now)}, nil
}

// setNumber changes the spotlight number; the next decision applies it.
func (sp *spotlight) setNumber(n int) error {
	if n < 1 || n > MaxSpotlightNumber {
		return fmt.Errorf("spotlight number %d is not within 1..%d: %w", n, MaxSpotlightNumber, ErrInvalid)
	}
	sp.mu.Lock()
	sp.number = n
	sp.mu.Unlock()
	return nil
}
