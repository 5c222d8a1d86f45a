package ingestbench

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// variant is one server configuration under measurement.
type variant struct {
	name   string // as in the table
	server string // serverKiroku, serverJanus or serverFloor
	// record is kiroku's recording format (webm, mp4) or "on" for Janus;
	// empty: not recording.
	record string
	conf   string // kiroku: extra sora.conf lines
	// janusPair is the Janus variant a kiroku one is compared with (same
	// recording: off with off, on with on); empty for others.
	janusPair string
	// basePair is, for a B build of kiroku, the A variant with the same
	// recording it is compared with.
	basePair string
	// otherBinary: a B variant runs the cmd/sfu binary named by
	// KIROKU_INGEST_B_SFU instead of the one built from this tree.
	otherBinary bool
	// floorRatio: the variant is also compared with the floor.
	floorRatio bool
}

// Servers.
const (
	serverKiroku = "kiroku"
	serverJanus  = "janus"
	serverFloor  = "floor"
)

// Variant names.
const (
	kirokuOff  = "kiroku, recording off"
	kirokuWebM = "kiroku, recording WebM"
	kirokuMP4  = "kiroku, recording MP4"
	janusOff   = "Janus 1.1.2, record off"
	janusOn    = "Janus 1.1.2, record on"
	floorName  = "floor (recvmmsg + SRTP, one thread)"
	// bPrefix starts the names of kiroku's B variants.
	bPrefix = "B: "
)

// allVariants are the variants in table order: kiroku with conf (extra
// sora.conf lines), Janus, the floor, and, when bConf is not empty,
// kiroku again with conf and bConf (an A/B comparison in the same run).
func allVariants(conf, bConf string, bBinary bool) []variant {
	vs := []variant{
		{name: kirokuOff, server: serverKiroku, conf: conf, janusPair: janusOff, floorRatio: true},
		{name: kirokuWebM, server: serverKiroku, record: "webm", conf: conf, janusPair: janusOn, floorRatio: true},
		{name: kirokuMP4, server: serverKiroku, record: "mp4", conf: conf, janusPair: janusOn, floorRatio: true},
		{name: janusOff, server: serverJanus, floorRatio: true},
		{name: janusOn, server: serverJanus, record: "on", floorRatio: true},
		{name: floorName, server: serverFloor},
	}
	if bConf == "" && !bBinary {
		return vs
	}
	for _, v := range vs[:3] {
		v.basePair, v.name, v.conf, v.otherBinary = v.name, bPrefix+v.name, mergeConf(conf, bConf), bBinary
		vs = append(vs, v)
	}
	return vs
}

// minRecorded is the share of the sent bytes a recording server's files
// must grow by in a window (they hold the payloads; writers flush every
// few seconds, so a window's growth is not exact).
const minRecorded = 0.5

// mergeConf is sora.conf lines a with b's after them, less a's lines
// that set a key b sets (the SFU refuses a key set twice).
func mergeConf(a, b string) string {
	key := func(line string) string {
		k, _, ok := strings.Cut(line, "=")
		if t := strings.TrimSpace(line); !ok || t == "" || t[0] == '#' {
			return ""
		}
		return strings.TrimSpace(k)
	}
	set := map[string]bool{}
	for line := range strings.SplitSeq(b, "\n") {
		set[key(line)] = true
	}
	var out []string
	for line := range strings.SplitSeq(a, "\n") {
		if k := key(line); k == "" || !set[k] {
			out = append(out, line)
		}
	}
	return strings.TrimSpace(strings.Join(append(out, b), "\n"))
}

// valid reports whether a window counts: the server received the media
// and, when recording, its recordings grew with it.
func (s sample) valid() bool {
	return s.delivered() >= minDelivered && (!s.records || float64(s.recorded)/1e6 >= minRecorded*s.sentMB)
}

// stat is a median with its range.
type stat struct{ med, lo, hi float64 }

func (s stat) String() string {
	if s.med == 0 && s.lo == 0 && s.hi == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f (%.2f–%.2f)", s.med, s.lo, s.hi)
}

func statOf(v []float64) stat {
	if len(v) == 0 {
		return stat{}
	}
	s := slices.Clone(v)
	slices.Sort(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return stat{med: m, lo: s[0], hi: s[len(s)-1]}
}

// pick returns the valid samples of one variant and publisher count,
// by repetition.
func pick(samples []sample, name string, n int) map[int]sample {
	out := map[int]sample{}
	for _, s := range samples {
		if s.variant == name && s.n == n && s.valid() {
			out[s.rep] = s
		}
	}
	return out
}

// pairedRatios is a's CPU over b's in each repetition both are valid in.
func pairedRatios(samples []sample, a, b string, n int) []float64 {
	as, bs := pick(samples, a, n), pick(samples, b, n)
	var r []float64
	for rep, x := range as {
		if y, ok := bs[rep]; ok && y.cpu > 0 {
			r = append(r, x.corePercent()/y.corePercent())
		}
	}
	return r
}

// row is one line of the table.
type row struct {
	n                  int
	name               string
	valid, total       int
	core, us, rate     stat
	wakes              stat // thread wake-ups per packet
	delivered          stat
	recordedMB         stat
	perJanus, perFloor stat
	perBase            stat // B ÷ A, for B variants
}

// summarize turns the samples of vs into the table's rows.
func summarize(samples []sample, vs []variant, ns []int) []row {
	var rows []row
	for _, n := range ns {
		for _, v := range vs {
			r := row{n: n, name: v.name}
			var core, us, rate, dl, mb, wakes []float64
			for _, s := range samples {
				if s.variant != v.name || s.n != n {
					continue
				}
				r.total++
				dl = append(dl, s.delivered())
				if !s.valid() {
					continue
				}
				r.valid++
				core, us, rate = append(core, s.corePercent()), append(us, s.usPerPacket()), append(rate, s.rate())
				mb = append(mb, float64(s.recorded)/1e6)
				wakes = append(wakes, s.wakeupsPerPacket())
			}
			r.wakes = statOf(wakes)
			r.core, r.us, r.rate, r.delivered, r.recordedMB = statOf(core), statOf(us), statOf(rate), statOf(dl), statOf(mb)
			if v.janusPair != "" {
				r.perJanus = statOf(pairedRatios(samples, v.name, v.janusPair, n))
			}
			if v.floorRatio {
				r.perFloor = statOf(pairedRatios(samples, v.name, floorName, n))
			}
			if v.basePair != "" {
				r.perBase = statOf(pairedRatios(samples, v.name, v.basePair, n))
			}
			rows = append(rows, r)
		}
	}
	return rows
}

// printTable writes the rows as a Markdown table: medians with the range
// over valid windows in parentheses; ratios are paired, each
// repetition's own.
func printTable(w io.Writer, rows []row) {
	var b strings.Builder
	b.WriteString("| N | server | % of one core per publisher | µs per received packet | thread wake-ups per packet | received packets/s (share of sent) | recordings MB per window | ÷ Janus, same recording | ÷ floor | valid windows |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %d | %s | %s | %s | %s | %.0f (%.3f) | %s | %s | %s | %d/%d |\n", r.n, r.name, r.core, r.us,
			r.wakes, r.rate.med, r.delivered.med, r.recordedMB, r.perJanus, r.perFloor, r.valid, r.total)
	}
	for _, r := range rows {
		if r.perBase.med > 0 {
			fmt.Fprintf(&b, "\nN=%d %s ÷ the same without the B lines: %s", r.n, r.name, r.perBase)
		}
	}
	b.WriteString("\n")
	_, _ = io.WriteString(w, b.String())
}
