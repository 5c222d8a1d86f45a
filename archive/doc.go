// Package archive runs Sora-style session recordings: one Recording per
// session, one Recorder per connection feeding mux's writers, split
// scheduling, keyframe requests, metadata JSON and crash recovery of
// archive_tmp_dir. It receives RTP as a subscriber of the SFU and never
// imports package sfu; cmd/sfu wires the two.
package archive
