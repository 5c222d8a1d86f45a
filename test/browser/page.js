// page.js: drives one sora-js-sdk connection for the end-to-end tests.
// Everything is reached through window.kiroku; the Go tests call it with
// the driver's "eval" command and read plain JSON back.
import Sora from "/node_modules/sora-js-sdk/dist/sora.js";

const state = {
  connectionId: null,
  notifies: [],
  pushes: [],
  streams: {}, // stream id -> {tracks: {kind: trackId}, removed: [kind], left: n, ended: [kind]}
  messages: [], // {label, text} as received
  switched: false,
  disconnect: null,
  connectError: null,
};
let conn = null;
const remoteTracks = {}; // stream id -> {kind: MediaStreamTrack}, to read readyState later

// keepICEServers makes every later RTCPeerConnection of the page keep
// only the ICE server URLs that match pattern (a regular expression): a
// test can force a client onto one of the TURN URLs the server offers.
function keepICEServers(pattern) {
  const Native = window.RTCPeerConnection;
  const re = new RegExp(pattern);
  window.RTCPeerConnection = function (config, ...rest) {
    if (config?.iceServers) {
      const servers = [];
      for (const s of config.iceServers) {
        const urls = [].concat(s.urls).filter((u) => re.test(u));
        if (urls.length > 0) servers.push({ ...s, urls });
      }
      config = { ...config, iceServers: servers };
    }
    return new Native(config, ...rest);
  };
  window.RTCPeerConnection.prototype = Native.prototype;
  Object.setPrototypeOf(window.RTCPeerConnection, Native);
}

async function connect({ signalingUrl, channelId, role, codec, metadata, audio = true, video = true, dataChannels, dataChannelSignaling, ignoreDisconnectWebSocket, simulcast, simulcastRid, capture, iceServerFilter, spotlight, voice }) {
  if (iceServerFilter) keepICEServers(iceServerFilter);
  const sora = Sora.connection(signalingUrl, false);
  const options = { audio, video, videoCodecType: codec };
  if (dataChannels) options.dataChannels = dataChannels;
  if (dataChannelSignaling !== undefined) options.dataChannelSignaling = dataChannelSignaling;
  if (ignoreDisconnectWebSocket !== undefined) options.ignoreDisconnectWebSocket = ignoreDisconnectWebSocket;
  if (simulcast !== undefined) options.simulcast = simulcast;
  if (simulcastRid !== undefined) options.simulcastRid = simulcastRid;
  // spotlight: {number, focusRid, unfocusRid}, each optional.
  if (spotlight) {
    options.spotlight = true;
    if (spotlight.number) options.spotlightNumber = spotlight.number;
    if (spotlight.focusRid) options.spotlightFocusRid = spotlight.focusRid;
    if (spotlight.unfocusRid) options.spotlightUnfocusRid = spotlight.unfocusRid;
  }
  const make = { sendrecv: sora.sendrecv, sendonly: sora.sendonly, recvonly: sora.recvonly }[role];
  conn = make.call(sora, channelId, metadata ?? null, options);
  conn.on("notify", (m, transport) => state.notifies.push({ ...m, transport }));
  conn.on("push", (m, transport) => state.pushes.push({ ...m, transport }));
  conn.on("switched", () => (state.switched = true));
  conn.on("track", onTrack);
  conn.on("message", (m) => state.messages.push({ label: m.label, text: new TextDecoder().decode(m.data) }));
  conn.on("removetrack", onRemoveTrack);
  conn.on("disconnect", (e) => {
    state.disconnect = { type: e.type, title: e.title, code: e.code ?? null, reason: e.reason ?? null };
  });
  let stream;
  if (role !== "recvonly") {
    // A simulcast publisher captures 1280x720: the browser sends all three
    // layers (320x180, 640x360, 1280x720) only from 960x540 up.
    // capture ({width, height, frameRate}) overrides the camera's mode.
    const size = simulcast ? { width: 1280, height: 720, frameRate: 15 } : { width: 320, height: 240, frameRate: 15 };
    stream = await navigator.mediaDevices.getUserMedia({ audio, video: video ? { ...size, ...capture } : false });
    if (voice && audio) stream = withVoice(stream);
  }
  try {
    await conn.connect(stream);
  } catch (e) {
    state.connectError = { message: String(e.message ?? e), code: e.code ?? null, reason: e.reason ?? null };
    return state.connectError;
  }
  state.connectionId = conn.connectionId;
  return { connectionId: conn.connectionId };
}

// withVoice replaces the stream's audio (the fake device's constant beep)
// with a WebAudio tone whose gain setVoice turns on and off: the test's
// speaker, silent at first.
let voiceGain = null;

function withVoice(stream) {
  const ctx = new AudioContext();
  const tone = ctx.createOscillator();
  tone.frequency.value = 440;
  voiceGain = ctx.createGain();
  voiceGain.gain.value = 0;
  const out = ctx.createMediaStreamDestination();
  tone.connect(voiceGain).connect(out);
  tone.start();
  for (const t of stream.getAudioTracks()) {
    stream.removeTrack(t);
    t.stop();
  }
  stream.addTrack(out.stream.getAudioTracks()[0]);
  return stream;
}

function setVoice({ on }) {
  if (!voiceGain) throw new Error("the page has no voice");
  voiceGain.gain.value = on ? 0.5 : 0;
  return true;
}

function onTrack(event) {
  const stream = event.streams[0];
  const s = (state.streams[stream.id] ??= { tracks: {}, removed: [] });
  s.tracks[event.track.kind] = event.track.id;
  (remoteTracks[stream.id] ??= {})[event.track.kind] = event.track;
  if (event.track.kind === "video" && !document.getElementById(`v-${stream.id}`)) {
    const v = document.createElement("video");
    v.id = `v-${stream.id}`;
    v.muted = true;
    v.autoplay = true;
    v.playsInline = true;
    v.srcObject = stream;
    document.getElementById("videos").appendChild(v);
  }
}

// Decode gaps: while watched, a remote stream's video receiver is asked
// for framesDecoded every 20 ms, and the longest time it did not grow is
// kept. Decoding goes on in a background tab, unlike rendering.
let watch = null;

function watchDecode({ streamId }) {
  stopWatch();
  const trackId = state.streams[streamId]?.tracks.video;
  const receiver = conn?.pc?.getReceivers().find((r) => r.track?.id === trackId);
  if (!receiver) throw new Error(`no video receiver for ${streamId}`);
  const w = (watch = { last: performance.now(), frames: null, maxGap: 0, decoded: 0, busy: false });
  w.timer = setInterval(async () => {
    if (w.busy) return;
    w.busy = true;
    const report = await receiver.getStats();
    w.busy = false;
    const now = performance.now();
    report.forEach((r) => {
      if (r.type !== "inbound-rtp" || r.kind !== "video") return;
      const n = r.framesDecoded ?? 0;
      if (w.frames !== null && n > w.frames) {
        w.maxGap = Math.max(w.maxGap, now - w.last);
        w.decoded += n - w.frames;
        w.last = now;
      }
      if (w.frames === null || n > w.frames) w.frames = n;
    });
  }, 20);
  return true;
}

// decodeGaps stops the watch and returns the longest gap (ms, up to
// now) and the frames decoded while it ran.
function decodeGaps() {
  const w = watch;
  stopWatch();
  if (!w) return null;
  return { maxGapMs: Math.max(w.maxGap, performance.now() - w.last), frames: w.decoded };
}

function stopWatch() {
  if (watch) clearInterval(watch.timer);
  watch = null;
}

// setLayerActive pauses (active false) or resumes the page's simulcast
// layer rid, as a browser does when its bandwidth falls or recovers.
async function setLayerActive({ rid, active }) {
  const sender = conn?.pc?.getSenders().find((s) => s.track?.kind === "video");
  if (!sender) throw new Error("no video sender");
  const params = sender.getParameters();
  const enc = params.encodings.find((e) => e.rid === rid);
  if (!enc) throw new Error(`no encoding ${rid}`);
  enc.active = active;
  await sender.setParameters(params);
  return true;
}

// onRemoveTrack notes a track the SDK reports removed from a remote
// stream: its kind and how many tracks the stream still has.
function onRemoveTrack(event) {
  const stream = event.target;
  const s = (state.streams[stream.id] ??= { tracks: {}, removed: [] });
  s.removed.push(event.track.kind);
  s.left = stream.getTracks().length;
}

// inbound sums getStats inbound-rtp per remote stream: video frames
// decoded and audio packets received.
async function inbound() {
  const byTrack = {};
  for (const [streamId, s] of Object.entries(state.streams)) {
    for (const [kind, trackId] of Object.entries(s.tracks)) byTrack[trackId] = { streamId, kind };
  }
  const out = {};
  if (!conn?.pc) return out;
  const report = await conn.pc.getStats();
  report.forEach((r) => {
    if (r.type !== "inbound-rtp") return;
    const owner = byTrack[r.trackIdentifier];
    if (!owner) return;
    const o = (out[owner.streamId] ??= { framesDecoded: 0, audioPackets: 0, videoCodec: null, frameWidth: 0 });
    if (r.kind === "video") {
      o.framesDecoded += r.framesDecoded ?? 0;
      o.frameWidth = r.frameWidth ?? 0;
      const codec = r.codecId && report.get(r.codecId);
      if (codec) o.videoCodec = codec.mimeType;
    } else {
      o.audioPackets += r.packetsReceived ?? 0;
    }
  });
  return out;
}

// sendMessage sends text on a messaging channel once it is open.
async function sendMessage({ label, text }) {
  for (let i = 0; i < 100; i++) {
    try {
      await conn.sendMessage(label, new TextEncoder().encode(text));
      return true;
    } catch (e) {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`channel ${label} never opened`);
}

async function disconnect() {
  if (conn) await conn.disconnect();
}

// transport describes the PeerConnection's selected ICE candidate pair
// and the configuration the SDK gave the PeerConnection (from the offer).
async function transport() {
  if (!conn?.pc) return null;
  const report = await conn.pc.getStats();
  let pair = null;
  report.forEach((r) => {
    if (r.type === "transport" && r.selectedCandidatePairId) pair = report.get(r.selectedCandidatePairId);
  });
  const local = pair ? report.get(pair.localCandidateId) : null;
  const remote = pair ? report.get(pair.remoteCandidateId) : null;
  const cfg = conn.pc.getConfiguration();
  return {
    iceTransportPolicy: cfg.iceTransportPolicy,
    iceServers: cfg.iceServers.map((s) => ({ urls: s.urls, hasCredential: !!s.username && !!s.credential })),
    localType: local?.candidateType ?? null,
    localProtocol: local?.relayProtocol ?? local?.protocol ?? null,
    remoteType: remote?.candidateType ?? null,
  };
}

// snapshot returns the state with, per remote stream, the kinds of its
// tracks that have ended (readyState "ended").
function snapshot() {
  for (const [streamId, tracks] of Object.entries(remoteTracks)) {
    state.streams[streamId].ended = Object.entries(tracks)
      .filter(([, track]) => track.readyState === "ended")
      .map(([kind]) => kind);
  }
  return state;
}

// rpc calls a JSON-RPC method on the "rpc" DataChannel and returns its
// result, or the error it failed with.
async function rpc({ method, params }) {
  try {
    return { result: await conn.rpc(method, params, { timeout: 5000 }) };
  } catch (e) {
    return { error: String(e.message ?? e) };
  }
}

// outbound describes the page's outgoing video per simulcast layer.
async function outbound() {
  const out = [];
  if (!conn?.pc) return out;
  const report = await conn.pc.getStats();
  report.forEach((r) => {
    if (r.type === "outbound-rtp" && r.kind === "video") {
      out.push({ rid: r.rid ?? "", frameWidth: r.frameWidth ?? 0, framesEncoded: r.framesEncoded ?? 0,
        qualityLimitationReason: r.qualityLimitationReason ?? "" });
    }
  });
  return out;
}

// videoEncodings is how many encodings the page's video sender has (more
// than one when it sends simulcast).
function videoEncodings() {
  const sender = conn?.pc?.getSenders().find((s) => s.track?.kind === "video");
  return sender ? sender.getParameters().encodings.length : 0;
}

window.kiroku = { connect, inbound, outbound, rpc, sendMessage, disconnect, transport, videoEncodings,
  watchDecode, decodeGaps, setLayerActive, setVoice, state: snapshot };
