// Stock WHIP and WHEP clients from npm, as a page would use them: the
// Eyevinn WHIP web client publishes the fake camera, the Eyevinn WebRTC
// player plays a WHEP URL. The e2e tests bundle this file with esbuild
// (stock.html loads the bundle) and drive window.kiroku.
import { WHIPClient } from "@eyevinn/whip-web-client";
import { WebRTCPlayer } from "@eyevinn/webrtc-player";

let publisher = null;
let player = null;
const errors = [];

// publish sends the fake camera and microphone to a WHIP endpoint.
async function publish({ endpoint, token }) {
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 480 } });
  publisher = new WHIPClient({ endpoint, opts: { debug: false, noTrickleIce: true, authkey: token } });
  await publisher.ingest(stream);
  return true;
}

// unpublish ends the WHIP resource (DELETE) and the camera.
async function unpublish() {
  if (publisher) await publisher.destroy();
  publisher = null;
  return true;
}

// play starts the player on a WHEP URL.
async function play({ url }) {
  const video = document.querySelector("video");
  player = new WebRTCPlayer({ video, type: "whep", statsTypeFilter: "^inbound-rtp" });
  player.on("no-media", () => errors.push("no-media"));
  await player.load(new URL(url));
  video.muted = true;
  await video.play().catch((e) => errors.push(String(e)));
  return true;
}

// playback is how far the player's video element got.
function playback() {
  const video = document.querySelector("video");
  const q = video.getVideoPlaybackQuality();
  return { currentTime: video.currentTime, frames: q.totalVideoFrames, width: video.videoWidth, errors };
}

async function stop() {
  if (player) player.destroy();
  player = null;
  return true;
}

window.kiroku = { publish, unpublish, play, playback, stop };
