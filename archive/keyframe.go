package archive

import "time"

// minKeyframeGap is the least time between two keyframe requests that a
// recorder passes to its Subscription; the SFU merges further.
const minKeyframeGap = time.Second

// keyframes decides when a recorder asks its publisher for a keyframe: at
// start until the first one arrives, when the muxer or writer asks (gaps,
// split points, WebM's cluster limit), and for MP4 when the sender has
// sent none for the periodic interval. It runs on the recorder goroutine;
// now is the arrival time of the event being handled.
type keyframes struct {
	send     func()
	periodic time.Duration // 0: no periodic requests

	now      time.Time
	last     time.Time // last request passed on
	lastKey  time.Time // last keyframe written, or last periodic request
	gotFirst bool
	// deferred is a request that came less than minKeyframeGap after the
	// previous one: it goes out at the first tick after the gap unless a
	// keyframe arrives first. Dropping it would leave a split point
	// waiting for the sender's own next keyframe, minutes away in Chrome.
	deferred bool
	sent     int
	// forSplit marks the pending request as one for a split boundary;
	// counted (optional) learns each request passed on and which it was.
	forSplit bool
	counted  func(split bool)
}

// want passes a request on, or defers it when one went out less than
// minKeyframeGap ago.
func (k *keyframes) want() {
	if !k.last.IsZero() && k.now.Sub(k.last) < minKeyframeGap {
		k.deferred = true
		return
	}
	k.send1()
}

// send1 passes one request to the publisher.
func (k *keyframes) send1() {
	k.deferred = false
	k.last = k.now
	k.sent++
	if k.counted != nil {
		k.counted(k.forSplit)
	}
	k.forSplit = false
	if k.send != nil {
		k.send()
	}
}

// tick advances time to now and asks for the keyframes that are due.
func (k *keyframes) tick(now time.Time) {
	k.now = now
	if k.lastKey.IsZero() {
		k.lastKey = now // the periodic interval counts from the start
	}
	switch {
	case k.deferred && now.Sub(k.last) >= minKeyframeGap:
		k.send1()
	case !k.gotFirst:
		k.want()
	case k.periodic > 0 && now.Sub(k.lastKey) >= k.periodic:
		k.lastKey = now // one request per silent interval, not one per packet
		k.want()
	}
}

// sawKeyframe notes a video keyframe written to a file.
func (k *keyframes) sawKeyframe() {
	k.gotFirst = true
	k.deferred = false // a keyframe after the request answers it
	k.forSplit = false
	k.lastKey = k.now
}
