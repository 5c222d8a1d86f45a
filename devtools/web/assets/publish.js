// publish.js: the Publish page. Captures the camera and microphone with the
// chosen options and publishes them (sendonly) with sora-js-sdk.
import Sora from "/sora-js-sdk/sora.js";
import { $, bindChannel, setStatus, settings, signalingUrl } from "/assets/common.js";

const channel = bindChannel();
let conn = null;
let stream = null;

function release() {
  stream?.getTracks().forEach((t) => t.stop());
  stream = null;
  conn = null;
  $("local").srcObject = null;
  $("publish").disabled = false;
  $("stop").disabled = true;
  $("options").disabled = false;
}

async function publish() {
  const audio = $("audio").checked;
  const video = $("video").checked;
  if (!audio && !video) {
    setStatus("status", "Choose audio, video or both.", "error");
    return;
  }
  const [width, height] = $("resolution").value.split("x").map(Number);
  $("publish").disabled = true;
  $("options").disabled = true;
  setStatus("status", "Connecting…");
  try {
    const s = await settings();
    stream = await navigator.mediaDevices.getUserMedia({ audio, video: video ? { width, height } : false });
    const options = { audio, video, videoCodecType: $("codec").value, simulcast: $("simulcast").checked };
    const c = Sora.connection(signalingUrl(s), false).sendonly(channel.value, null, options);
    c.on("disconnect", (e) => {
      if (conn !== c) return; // Stop was pressed
      setStatus("status", `Disconnected: ${e.reason ?? e.title ?? e.type}`, "error");
      release();
    });
    conn = c;
    await c.connect(stream);
    $("local").srcObject = stream;
    $("stop").disabled = false;
    setStatus("status", `Publishing to ${channel.value} as ${c.connectionId}`, "ok");
  } catch (e) {
    setStatus("status", `Publish failed: ${e.message ?? e}`, "error");
    const c = conn;
    release();
    await c?.disconnect().catch(() => {});
  }
}

async function stop() {
  const c = conn;
  release();
  await c?.disconnect();
  setStatus("status", "Stopped.");
}

$("publish").addEventListener("click", publish);
$("stop").addEventListener("click", stop);
