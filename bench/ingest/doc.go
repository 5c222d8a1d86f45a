// Package ingestbench measures what receiving media costs kiroku, side
// by side with Janus 1.1.2 (Debian 12's janus: the VideoRoom plugin over
// its HTTP API) and with a floor, in one interleaved run.
//
// Every server is fed by the same pion client with the same real media:
// N publishers of a VP8 720p 2.5 Mbit/s clip and Opus, made once with
// ffmpeg into a cache directory and looped ([loadgen.Clip]), no
// subscribers. kiroku's publishers are load generator clients on its
// Sora signaling; Janus's join a VideoRoom room as publishers; the
// floor's are plain UDP sockets sending the same packets, SRTP-encrypted
// with a fixed key, to a receiver that reads them in batches (recvmmsg)
// and decrypts them on one thread: what any server must at least spend.
//
// The servers run in a network namespace of their own and the client in
// another (the test binary re-runs itself inside `unshare --net`), joined
// by a veth pair: the server end has 198.18.0.1, the client end
// 198.18.0.2, and there is no other address and no route anywhere else.
// Each measurement starts a fresh server process, connects the
// publishers, lets the media settle and then reads the process's CPU time
// from /proc/PID/stat over a fixed window, with the RTP packets the server
// says it received over the same window (kiroku's /metrics, Janus's admin
// API handle_info, the floor's own count): a server that drops the media
// cannot look cheap.
package ingestbench
