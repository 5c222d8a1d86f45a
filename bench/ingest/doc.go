// Package ingestbench measures what receiving media costs kiroku, side
// by side with Janus 1.1.2 (Debian 12's janus: the VideoRoom plugin over
// its HTTP API) and with a floor, in one interleaved run
// (BenchmarkIngest; `make bench`, which installs Janus with
// `make deps-bench`).
//
// Every server is fed by the same pion client with the same real media:
// N publishers (8 and 16) of a VP8 720p30 2.5 Mbit/s clip and 64 kbit/s
// Opus, made once with ffmpeg into the cache directory (~/.cache/kiroku)
// and looped by [loadgen.Clip], no subscribers. A keyframe request (PLI
// or FIR) is answered by starting the clip again at its first frame, a
// real keyframe, at the next frame time. kiroku's publishers are load
// generator clients on its Sora signaling; Janus's join a VideoRoom room
// as publishers (a session each, a full-gathered offer in "publish", the
// answer from the event, keepalives); the floor's are plain UDP sockets
// sending the same packets, SRTP-encrypted (AEAD_AES_256_GCM, the profile
// both servers negotiate with pion) with a fixed key, without RTCP or
// header extensions, to a receiver process that reads one socket in
// batches (recvmmsg through golang.org/x/net/ipv4) and decrypts each
// datagram in place in one goroutine: what any Go server must at least
// spend on the same packets.
//
// Variants: kiroku with recording off, WebM and MP4 (StartRecording over
// its HTTP API), Janus with the room's record off and on (raw .mjr dumps
// in rec_dir), and the floor. A repetition (one b.Loop iteration;
// -benchtime 3x for three) measures every variant at every N once, in an
// order rotated by the repetition. The table gives medians with ranges
// over valid windows, and ratios paired within a repetition: kiroku ÷
// Janus with the same recording (off with off, WebM and MP4 with on) and
// every server ÷ the floor.
//
// The servers run in a network namespace of their own and the client in
// another (the test binary re-runs itself inside `unshare --net`), joined
// by a veth pair: the server end has 198.18.0.1, the client end
// 198.18.0.2, and there is no other address and no route anywhere else.
// Each window starts a fresh server process, connects the publishers,
// lets the media settle (KIROKU_INGEST_WARMUP, 5 s) and then reads the
// process's CPU time (all threads, from /proc/PID/stat) over a fixed
// window (KIROKU_INGEST_WINDOW, 20 s), with the RTP packets the server
// says it received over the same window (kiroku's /metrics
// kiroku_rtp_received_packets_total, the sum of Janus's admin API
// handle_info media stats, the floor's own count). A window in which the
// server counted less than 95 % of what was sent, or whose recordings did
// not grow, is invalid and left out: a server that drops the media cannot
// look cheap. Before the first window the benchmark passes twice the
// largest window's recordings through the page cache and frees them: on
// a virtual machine whose host backs memory lazily, writing into a page
// the guest never used costs ten times more, and the first server to
// record would pay for it alone. The client shares the machine's cores with the server; the
// floor's senders (no pion, no RTCP) cost it less than the others', which
// if anything favours the floor, as a floor should be favoured.
// KIROKU_INGEST_PUBLISHERS (e.g. "8") and
// KIROKU_INGEST_VARIANTS (e.g. "kiroku,floor") narrow a quick run;
// KIROKU_INGEST_KEEP=1 keeps each window's configuration, logs,
// recordings and, for kiroku, a CPU profile of the whole process life
// (cpu.pprof, for go tool pprof). KIROKU_BENCH_SFU_CONF adds sora.conf lines to every kiroku
// variant; KIROKU_INGEST_B_CONF measures kiroku's variants a second time
// with more lines ("B: …" rows, each paired with its A variant in the
// same repetition), to weigh a change of the receive path against the
// path it replaces in one run (make bench sets it to
// udp_receive_coalesce = 20 ms, the setting for nodes that mostly
// record); KIROKU_INGEST_B_SFU names a cmd/sfu binary built from another
// commit for the B rows, to weigh two builds.
package ingestbench
