// recordings.js: the Recordings page. Starts and stops a channel's
// recording through the HTTP API, lists the finished files of archive_dir
// and plays them.
import { $, bindChannel, callApi, setStatus } from "/assets/common.js";

const channel = bindChannel();

async function startRecording() {
  const body = { channel_id: channel.value };
  if ($("format").value) body.format = $("format").value;
  try {
    const r = await callApi("Sora_20231220.StartRecording", body);
    setStatus("rec-status", `Recording ${channel.value}: recording_id ${r.recording_id} (${r.format})`, "ok");
  } catch (e) {
    setStatus("rec-status", `StartRecording failed: ${e.message}`, "error");
  }
}

async function stopRecording() {
  try {
    const r = await callApi("Sora_20231220.StopRecording", { channel_id: channel.value });
    setStatus("rec-status", `Stopped recording ${r.recording_id}; its files appear below when finished.`, "ok");
    setTimeout(refresh, 1000);
  } catch (e) {
    setStatus("rec-status", `StopRecording failed: ${e.message}`, "error");
  }
}

function cell(content) {
  const td = document.createElement("td");
  td.append(content);
  return td;
}

function row(rec, file) {
  const tr = document.createElement("tr");
  tr.dataset.recordingId = rec.recording_id;
  tr.dataset.file = file.name;
  const link = document.createElement("a");
  link.href = file.url;
  link.textContent = file.name;
  const play = document.createElement("button");
  play.textContent = "Play";
  play.className = "play";
  play.hidden = !file.media;
  play.addEventListener("click", () => {
    $("player").src = file.url;
    $("player").play().catch(() => {});
    setStatus("now-playing", `${rec.recording_id}/${file.name}`);
  });
  tr.append(cell(rec.recording_id), cell(link), cell(String(file.size)), cell(play));
  return tr;
}

async function refresh() {
  try {
    const res = await fetch("/recordings.json");
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const list = await res.json();
    const rows = list.flatMap((rec) => rec.files.map((f) => row(rec, f)));
    $("recordings").replaceChildren(...rows);
    setStatus("list-status", `${list.length} recordings, ${rows.length} files`);
  } catch (e) {
    setStatus("list-status", `Listing failed: ${e.message}`, "error");
  }
}

$("start").addEventListener("click", startRecording);
$("stop").addEventListener("click", stopRecording);
$("refresh").addEventListener("click", refresh);
refresh();
