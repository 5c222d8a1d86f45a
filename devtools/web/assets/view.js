// view.js: the View page. Joins a channel recvonly and shows every remote
// stream (one per publisher, labelled with its connection id).
import Sora from "/sora-js-sdk/sora.js";
import { $, bindChannel, setStatus, settings, signalingUrl } from "/assets/common.js";

const channel = bindChannel();
let conn = null;

function onTrack(event) {
  const stream = event.streams[0];
  if (!stream || document.getElementById(`remote-${stream.id}`)) return;
  const fig = document.createElement("figure");
  fig.id = `remote-${stream.id}`;
  const v = document.createElement("video");
  v.autoplay = true;
  v.muted = true; // autoplay without a gesture; unmute with the controls
  v.controls = true;
  v.playsInline = true;
  v.srcObject = stream;
  v.dataset.connectionId = stream.id;
  const cap = document.createElement("figcaption");
  cap.textContent = stream.id;
  fig.append(v, cap);
  $("remotes").append(fig);
}

function onRemoveTrack(event) {
  const stream = event.target;
  if (stream.getTracks().length === 0) document.getElementById(`remote-${stream.id}`)?.remove();
}

function reset() {
  conn = null;
  $("remotes").replaceChildren();
  $("connect").disabled = false;
  $("disconnect").disabled = true;
  channel.disabled = false;
}

async function connect() {
  $("connect").disabled = true;
  channel.disabled = true;
  setStatus("status", "Connecting…");
  try {
    const s = await settings();
    const c = Sora.connection(signalingUrl(s), false).recvonly(channel.value, null, { audio: true, video: true });
    c.on("track", onTrack);
    c.on("removetrack", onRemoveTrack);
    c.on("disconnect", (e) => {
      if (conn !== c) return;
      setStatus("status", `Disconnected: ${e.reason ?? e.title ?? e.type}`, "error");
      reset();
    });
    conn = c;
    await c.connect();
    $("disconnect").disabled = false;
    setStatus("status", `Viewing ${channel.value} as ${c.connectionId}`, "ok");
  } catch (e) {
    setStatus("status", `Connect failed: ${e.message ?? e}`, "error");
    const c = conn;
    reset();
    await c?.disconnect().catch(() => {});
  }
}

async function disconnect() {
  const c = conn;
  reset();
  await c?.disconnect();
  setStatus("status", "Disconnected.");
}

$("connect").addEventListener("click", connect);
$("disconnect").addEventListener("click", disconnect);
