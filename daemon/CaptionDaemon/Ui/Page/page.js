// captiond's live page: sources, levels and captions as they happen. Everything comes from this daemon: /healthz
// (read every few seconds while the page is open) and /events (Server-Sent Events: captions and levels).
"use strict";

const MAX_CAPTIONS = 50;
const HEALTH_SECONDS = 3;
const METER_FLOOR_DBFS = -90;

const sources = new Map();
let keepAudioSeconds = 0;

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function sourceCard(id) {
  let source = sources.get(id);
  if (source) return source;
  const container = document.getElementById("sources");
  container.querySelector(".empty")?.remove();
  const card = element("article", "card");
  card.dataset.source = id;
  const head = element("div", "card-head");
  const badge = element("span", "badge", "…");
  const detail = element("div", "detail meta");
  head.append(element("h3", "", id), badge, detail);
  const meter = element("div", "meter");
  meter.setAttribute("role", "meter");
  meter.setAttribute("aria-label", `${id} level`);
  meter.setAttribute("aria-valuemin", String(METER_FLOOR_DBFS));
  meter.setAttribute("aria-valuemax", "0");
  const bar = element("div", "bar");
  const value = element("span", "value", "– dBFS");
  meter.append(bar, value);
  const list = element("ul", "captions");
  const none = element("li", "empty", "No caption since the page opened.");
  list.append(none);
  card.append(head, meter, list);
  const cards = [...container.children].filter(c => c.dataset.source);
  const next = cards.find(c => c.dataset.source.localeCompare(id) > 0);
  container.insertBefore(card, next ?? null);
  source = { card, badge, detail, meter, bar, value, list };
  sources.set(id, source);
  return source;
}

function showLevel(level) {
  const source = sourceCard(level.source);
  const dbfs = Number(level.dbfs);
  const share = Math.max(0, Math.min(1, (dbfs - METER_FLOOR_DBFS) / -METER_FLOOR_DBFS));
  source.bar.style.width = `${(share * 100).toFixed(1)}%`;
  source.value.textContent = `${dbfs.toFixed(1)} dBFS`;
  source.meter.dataset.dbfs = dbfs.toFixed(1);
  source.meter.setAttribute("aria-valuenow", dbfs.toFixed(1));
}

function percent(confidence) {
  if (confidence === null || confidence === undefined) return "–";
  const p = confidence * 100;
  return `${p < 10 ? p.toFixed(1) : p.toFixed(0)}%`;
}

function showCaption(caption) {
  const source = sourceCard(caption.source);
  source.list.querySelector(".empty")?.remove();
  const item = element("li", "caption");
  item.dataset.seq = String(caption.seq);
  const details = element("details");
  const summary = element("summary");
  const end = new Date(caption.end);
  const time = element("time", "", end.toLocaleTimeString());
  time.dateTime = caption.end;
  time.title = `${caption.start} – ${caption.end}, ${caption.model}`;
  summary.append(time, element("span", "text", caption.text), element("span", "confidence", percent(caption.confidence)));
  const labels = element("span", "labels");
  for (const label of caption.labels ?? []) {
    labels.append(element("span", "label", label.score === null ? label.label : `${label.label} ${percent(label.score)}`));
  }
  summary.append(labels);
  const playback = element("div", "playback");
  details.append(summary, playback);
  details.addEventListener("toggle", () => { if (details.open && !playback.dataset.loaded) play(caption, playback); });
  item.append(details);
  source.list.prepend(item);
  while (source.list.children.length > MAX_CAPTIONS) source.list.lastElementChild.remove();
}

async function play(caption, playback) {
  playback.dataset.loaded = "1";
  if (keepAudioSeconds <= 0) {
    playback.textContent = "Playback is off: the daemon keeps no audio (Ui:KeepAudioSeconds is 0).";
    return;
  }
  playback.textContent = "Loading the window's audio…";
  const query = new URLSearchParams({ source: caption.source, start: caption.start, end: caption.end });
  try {
    const response = await fetch(`/audio?${query}`);
    if (!response.ok) {
      playback.textContent = (await response.text()).replace(/^captiond: /, "");
      return;
    }
    const audio = element("audio");
    audio.controls = true;
    audio.src = URL.createObjectURL(await response.blob());
    playback.replaceChildren(audio);
  } catch (error) {
    playback.textContent = `The audio could not be loaded: ${error}`;
    delete playback.dataset.loaded;
  }
}

function setBadge(badge, state) {
  badge.textContent = state;
  badge.dataset.state = state;
}

function showHealth(health) {
  setBadge(document.getElementById("status"), health.status);
  const model = health.model;
  document.getElementById("model").textContent = model
    ? `model ${model.name} on ${model.provider}, loaded ${new Date(model.loaded_at).toLocaleString()}`
    : "no model loaded";
  const problems = document.getElementById("problems");
  const list = document.getElementById("problem-list");
  list.replaceChildren(...health.problems.map(p => element("li", "", p)));
  problems.hidden = health.problems.length === 0;
  for (const s of health.sources) {
    const source = sourceCard(s.id);
    setBadge(source.badge, s.state);
    source.detail.textContent = [s.type, s.detail].filter(Boolean).join(": ");
  }
  const rows = health.sinks.map(s => {
    const row = element("tr");
    row.dataset.sink = s.name;
    const state = element("td");
    const badge = element("span", "badge");
    setBadge(badge, s.state);
    state.append(badge);
    if (s.error) state.append(element("div", "meta", s.error));
    row.append(element("td", "", s.name), element("td", "", s.type), state,
      element("td", "number", String(s.depth)), element("td", "number", String(s.delivered)), element("td", "number", String(s.dropped)));
    return row;
  });
  document.querySelector("#sinks tbody").replaceChildren(...rows);
}

async function readHealth() {
  try {
    const response = await fetch("/healthz", { cache: "no-store" });
    showHealth(await response.json());
  } catch (error) {
    setBadge(document.getElementById("status"), "unreachable");
  } finally {
    setTimeout(readHealth, HEALTH_SECONDS * 1000);
  }
}

function listen() {
  const footer = document.getElementById("stream-state");
  const events = new EventSource("/events");
  events.addEventListener("hello", e => {
    keepAudioSeconds = JSON.parse(e.data).keep_audio_seconds;
    footer.textContent = keepAudioSeconds > 0
      ? `Live. Open a caption to hear its window (the last ${keepAudioSeconds} s of each source are kept).`
      : "Live. Captions appear as they are published; playback is off (Ui:KeepAudioSeconds is 0).";
  });
  events.addEventListener("caption", e => showCaption(JSON.parse(e.data)));
  events.addEventListener("level", e => showLevel(JSON.parse(e.data)));
  events.onerror = () => { footer.textContent = "The event stream is interrupted; reconnecting…"; };
}

readHealth();
listen();
