// Package mp4 writes kiroku's recordings as MP4 files that survive a crash
// of the recording process and end up as standard progressive MP4.
//
// # While recording
//
// NewWriter writes ftyp and then a reserved region of
// Options.ReservedHeaderBytes: an init moov (every track and sample entry,
// empty sample tables and mvex) followed by a free box filling the rest.
// Only the free box's header is written: a file with Truncate (*os.File)
// is grown over the rest, which reads as zeros (usually a hole), and any
// other writer gets the zeros written.
// Frames collect in memory and are written as one moof+mdat fragment at
// least every FlushInterval of media time, on Flush and on Close. Each
// fragment reaches the file with a single write of bytes formed in full
// beforehand, so a killed process leaves at worst a truncated last
// fragment. Each traf carries its sample entry index (tfhd) and the
// absolute decode time of its first sample (tfdt); each trun gives every
// sample's duration, size and sync flag.
//
// When a video keyframe brings a configuration not seen before (a new
// resolution or parameter sets), the init moov in the reserved region is
// rewritten with an extra sample entry before any fragment refers to it.
// A Writer keeps only the frames not yet written (each fragment is assembled
// in place behind headroom in the first track's buffer) and a few hundred
// bytes per track: sample tables are never held in memory while recording.
// Flush does not sync the file: it protects against a crash of the process,
// not of the machine.
//
// # Finishing
//
// Close and Recover share one path. It walks the file's fragments, reading
// each moof back from disk (Recover first reads the tracks from the init
// moov; Close knows them already), and builds a progressive moov: per
// track (video first) tkhd with the largest dimensions seen, mdhd at 90 kHz for video
// and 48 kHz for Opus, an edit list whose empty edit keeps a late track's
// start offset, and stsd (copied from the init moov), stts, stss (video),
// stsc, stsz and stco — or co64 once offsets pass 4 GiB. No ctts: kiroku
// records no B-frames. Timing is exact: frames' PTS are rounded to ticks as
// absolute times, and a sample lasts until the next sample's start. The
// last sample of a track lasts until Close's end when that is later;
// otherwise (and after a crash) an Opus packet lasts what its TOC says, so
// that a DTX pause before it does not stretch it, and a video frame as long
// as its predecessor (1/30 s for a lone frame).
//
// No sample table is held in memory, so finishing takes the same memory
// for a minute as for a day: the entries of each table are first only
// counted, which fixes the moov's layout, and a walk of the fragments then
// writes them straight into their places (through a small buffer per
// table). Recover counts with a first walk; a Writer counts what it
// writes as it goes, so Close walks once, and checks that the walk finds
// what was counted.
//
// The moov goes into the reserved region when it fits (assembled in a
// buffer of at most the region's size and written at once), the rest of
// the region becoming a free box; otherwise it is appended after the last
// fragment, its boxes' headers and fields first and its table entries
// after them, and the whole region becomes a free box. Finally every moof's
// type is rewritten to free, which leaves a file of several mdat boxes and
// no fragments. No media byte is copied.
//
// The order of those writes keeps the file recoverable at every step: the
// init moov (with mvex) is the sign that the file still needs finishing.
// Until it is replaced or freed, Recover redoes the whole finish, cutting
// off a moov appended by an interrupted attempt; once it is gone, Recover
// only turns leftover moof boxes into free boxes.
//
// Recover first cuts a partial last fragment (whose boxes do not fit the
// file) and then finishes the file. A fragment whose moof is damaged but
// whose moof and mdat boxes are whole is left out and the walk goes on;
// each track then resumes at its next sync sample, so no frame refers to a
// lost one. Corrupt input yields an error or a shorter file, never a panic:
// every box read into memory is bounded by its size on disk and by fixed
// limits.
package mp4
