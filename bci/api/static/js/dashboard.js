// The live session view: controls on the left, traces, decoder output and channel quality.

import {
  api,
  classColor,
  Features,
  fmt,
  getToken,
  LslClock,
  median,
  SessionSocket,
  withToken,
} from "./api.js";
import { ProbabilityChart, SuppressionGauge } from "./charts.js";
import { cueView } from "./cues.js";
import { QUALITY_COLORS, QUALITY_TEXT, TraceView } from "./traces.js";

getToken(); // read the #token=... fragment once, before anything rewrites the page URL

const $ = (id) => document.getElementById(id);

const state = {
  features: new Features(),
  sessionId: null,
  session: null, // last status dict (GET /sessions/{id} or hello)
  socket: null,
  latencies: [],
  computes: [],
  predTimes: [],
  nPredictions: 0,
  nSignals: 0,
  socketOpenedAt: null,
  calibrating: false,
  deleted: new Set(), // sessions this page stopped: never ask for them again
  hosted: [],
  lastChannelsRender: 0,
};

const clock = new LslClock();
const traces = new TraceView($("traces"));
const proba = new ProbabilityChart($("proba"));
const gauge = new SuppressionGauge($("mu-gauge"));

// For people poking at the page from the console, and for the browser tests.
window.bciDashboard = { state, traces, proba, gauge, clock };

// Controls and the endpoint each one needs; absent endpoints disable their control.
const CONTROL_ROUTES = {
  "session-start": ["POST", "/sessions"],
  "session-stop": ["DELETE", "/sessions/{}"],
  "cal-start": ["POST", "/sessions/{}/calibration"],
  "cal-cancel": ["DELETE", "/sessions/{}/calibration"],
  "model-activate": ["POST", "/sessions/{}/model"],
  "rec-start": ["POST", "/sessions/{}/recording"],
  "rec-stop": ["DELETE", "/sessions/{}/recording"],
  "replay-start": ["POST", "/replays"],
  "mu-enable": ["PUT", "/sessions/{}/mu-suppression"],
  "mu-baseline": ["POST", "/sessions/{}/mu-suppression/baseline"],
  "mu-disable": ["DELETE", "/sessions/{}/mu-suppression"],
};

function available(id) {
  const [method, path] = CONTROL_ROUTES[id];
  return state.features.has(method, path);
}

function applyFeatures() {
  for (const id of Object.keys(CONTROL_ROUTES)) {
    const el = $(id);
    if (!available(id)) {
      el.disabled = true;
      el.title = "Not available on this server version";
      el.dataset.unavailable = "1";
    }
  }
  const notes = [
    ["card-calibration", "cal-start", "cal-status"],
    ["card-recording", "rec-start", "rec-msg"],
    ["card-replay", "replay-start", "replay-msg"],
    ["card-model", "model-activate", "model-msg"],
  ];
  for (const [card, control, msgId] of notes) {
    if (!available(control)) {
      $(card).classList.add("unavailable");
      setMsg(msgId, "Not available on this server version yet.", "muted");
    }
  }
}

function setMsg(id, text, kind = "") {
  const el = $(id);
  el.textContent = text;
  el.dataset.kind = kind;
}

function log(text, kind = "") {
  const li = document.createElement("li");
  const time = new Date().toLocaleTimeString();
  li.innerHTML = `<span class="muted">${time}</span> `;
  li.append(document.createTextNode(text));
  li.dataset.kind = kind;
  const ol = $("event-log");
  ol.prepend(li);
  while (ol.children.length > 100) ol.lastChild.remove();
}

// ------------------------------------------------------------------ server lists
async function loadHealth() {
  const r = await api("/health");
  const el = $("health");
  if (r.ok) {
    el.textContent = `bci ${r.data.version} · liblsl ${r.data.liblsl ? "ok" : "missing"}`;
    el.dataset.state = r.data.liblsl ? "open" : "error";
  } else {
    el.textContent = `server: ${r.error}`;
    el.dataset.state = "error";
  }
}

async function loadStreams() {
  const sel = $("stream-select");
  sel.innerHTML = "<option value=''>(looking for streams…)</option>";
  const r = await api("/streams");
  sel.innerHTML = "";
  const eeg = r.ok ? r.data.filter((s) => s.type.toUpperCase() !== "MARKERS") : [];
  if (!eeg.length) {
    sel.innerHTML = "<option value=''>(no EEG stream found)</option>";
    $("stream-info").textContent = r.ok ? "" : r.error;
    return;
  }
  for (const s of eeg) {
    const opt = document.createElement("option");
    opt.value = s.name;
    opt.textContent = `${s.name} · ${s.n_channels} ch · ${s.sfreq} Hz`;
    opt.dataset.info = JSON.stringify(s);
    sel.append(opt);
  }
  showStreamInfo();
}

function showStreamInfo() {
  const opt = $("stream-select").selectedOptions[0];
  if (!opt || !opt.dataset.info) return;
  const s = JSON.parse(opt.dataset.info);
  const warn = s.warnings && s.warnings.length ? ` ⚠ ${s.warnings.join(" ")}` : "";
  $("stream-info").textContent = `${s.type} · ${s.ch_names.join(", ")} · ${s.hostname}${warn}`;
}

async function loadSessions() {
  const r = await api("/sessions");
  const list = r.ok ? r.data : [];
  // Rebuild only on change, so an open drop-down is not closed under the user's pointer.
  const key = JSON.stringify([state.sessionId, list.map((s) => [s.id, s.state, s.stream.name])]);
  if (key === state.sessionsKey) return list;
  state.sessionsKey = key;
  const sel = $("session-select");
  const ul = $("session-list");
  sel.innerHTML = "<option value=''>none</option>";
  ul.innerHTML = "";
  for (const s of list) {
    const opt = document.createElement("option");
    opt.value = s.id;
    opt.textContent = `#${s.id} ${s.stream.name} (${s.state})`;
    sel.append(opt);
    const li = document.createElement("li");
    li.innerHTML = `<span class="state-dot" data-state="${s.state}"></span>`;
    li.append(document.createTextNode(`#${s.id} ${s.stream.name} · ${s.state}`));
    li.dataset.id = s.id;
    li.className = s.id === state.sessionId ? "selected" : "";
    li.onclick = () => selectSession(s.id);
    ul.append(li);
  }
  sel.value = state.sessionId || "";
  return list;
}

async function loadModels() {
  const r = await api("/models");
  const sel = $("model-select");
  if (!r.ok) return;
  sel.innerHTML = r.data.length ? "" : "<option value=''>(no stored models)</option>";
  for (const m of [...r.data].reverse()) {
    const opt = document.createElement("option");
    opt.value = m.id;
    const score = m.cv_score === null ? "no CV" : `${m.cv_metric} ${fmt(m.cv_score, 2)}`;
    opt.textContent = `${m.id} · ${m.pipeline} · ${m.classes.join("/")} · ${score}`;
    sel.append(opt);
  }
  if (!$("model-id").value && r.data.length) $("model-id").value = sel.value;
}

async function loadSynthetic() {
  if (!state.features.has("GET", "/synthetic")) return;
  const r = await api("/synthetic");
  state.hosted = r.ok ? r.data.map((s) => s.name) : [];
  $("card-synthetic").hidden = state.hosted.length === 0;
}

// ------------------------------------------------------------------ one session
function resetViews() {
  traces.setChannels([]);
  traces.markers = [];
  traces.frames = 0;
  traces.lastT = null;
  proba.points = [];
  proba.markers = [];
  proba.frames = 0;
  state.nPredictions = 0;
  state.polling = false;
  state.latencies = [];
  state.computes = [];
  state.predTimes = [];
  state.nSignals = 0;
  $("channel-rows").innerHTML = "";
  $("proba-bars").innerHTML = "";
  $("current-label").textContent = "–";
  $("current-label").style.color = "";
  $("signal-info").textContent = "";
  $("signal-missing").hidden = true;
  $("card-mu").hidden = !available("mu-enable");
  $("mu-value").textContent = "–";
  $("mu-channels").textContent = "";
  setMsg("mu-msg", "");
  gauge.value = null;
  gauge.history = [];
  tickStats();
}

function selectSession(id) {
  id = id ? String(id) : null;
  if (state.socket) state.socket.close();
  state.socket = null;
  state.sessionId = id;
  state.session = null;
  resetViews();
  const url = new URL(location.href);
  if (id) url.searchParams.set("session", id);
  else url.searchParams.delete("session");
  history.replaceState(null, "", url);
  $("demo-link").href = withToken(id ? `/demo?session=${encodeURIComponent(id)}` : "/demo");
  $("session-select").value = id || "";
  for (const li of $("session-list").children) {
    li.className = li.dataset.id === id ? "selected" : "";
  }
  if (!id) {
    setWsState("closed");
    renderStatus(null);
    return;
  }
  const sock = new SessionSocket(id);
  state.socket = sock;
  sock.onState((s) => {
    setWsState(s);
    if (s === "open") state.socketOpenedAt = performance.now();
  });
  sock.on("hello", (m) => renderStatus(m.session));
  sock.on("prediction", onPrediction);
  sock.on("withheld", onWithheld);
  sock.on("signal", onSignal);
  sock.on("status", (m) => {
    log(`session ${m.session_id}: ${m.previous} → ${m.state}`, m.state === "error" ? "error" : "");
    if (m.state !== "stopped") refreshStatus();
  });
  sock.on("marker", (m) => {
    const color = m.source === "calibration" ? "#f9e04b" : m.source === "lsl" ? "#c77dff" : "#5ee1e6";
    traces.addMarker(m.t, m.value, color);
    proba.addMarker(m.t, m.value, color);
    log(`marker ${m.value} (${m.source}) at t=${fmt(m.t, 3)}`);
  });
  sock.on("model", (m) => {
    log(`model ${m.model_id} active`);
    refreshStatus();
  });
  sock.on("cue", onCue);
  sock.on("calibration", onCalibration);
  sock.on("mu_suppression", onMuSuppression);
  sock.on("error", (m) => log(`error: ${m.detail}`, "error"));
  sock.connect();
  refreshStatus();
  refreshCalibration();
}

function setWsState(s) {
  const el = $("ws-state");
  el.dataset.state = s;
  el.textContent = `WebSocket: ${s}`;
}

async function refreshStatus() {
  const id = state.sessionId;
  if (!id || state.deleted.has(id)) return;
  const r = await api(`/sessions/${encodeURIComponent(id)}`);
  if (id !== state.sessionId || state.deleted.has(id)) return;
  if (r.ok) renderStatus(r.data);
  else if (r.status === 404) {
    state.deleted.add(id); // deleted elsewhere
    log(`session ${id} is gone: ${r.error}`, "error");
  }
}

function renderStatus(s) {
  state.session = s;
  const c = s ? s.counts : {};
  $("st-state").textContent = s ? s.state : "–";
  $("st-state").dataset.state = s ? s.state : "";
  $("st-windows").textContent = s ? c.windows : "–";
  $("st-dropped").textContent = s ? c.dropped : "–";
  $("st-gaps").textContent = s ? c.gaps : "–";
  $("st-rejected").textContent = s ? c.rejected_windows : "–";
  $("st-samples").textContent = s ? c.samples : "–";
  const q = s && s.quality;
  $("st-withheld").textContent = q ? q.withheld : "–";
  $("st-quality").textContent = !q || q.ok === null ? "–" : q.ok ? "ok" : "bad";
  $("st-quality").title = q && q.last_withheld ? q.last_withheld.reason : "";
  const m = s && s.model;
  $("model-active").textContent = m
    ? `${m.id}${m.cv_score === null ? "" : ` · ${m.cv_metric} ${fmt(m.cv_score, 3)}`}`
    : "none";
  const ul = $("warnings");
  ul.innerHTML = "";
  for (const w of s ? [...s.warnings, ...(s.error ? [s.error] : [])] : []) {
    const li = document.createElement("li");
    li.textContent = w;
    ul.append(li);
  }
}

function onPrediction(m) {
  state.nPredictions += 1;
  if (!state.nSignals) clock.observe(m.t);
  proba.push(m);
  state.latencies.push(m.latency_ms);
  state.computes.push(m.compute_ms);
  const now = performance.now();
  state.predTimes.push(now);
  for (const arr of [state.latencies, state.computes]) if (arr.length > 64) arr.shift();
  while (state.predTimes.length && now - state.predTimes[0] > 2000) state.predTimes.shift();
  const label = $("current-label");
  label.textContent = m.label;
  label.title = "";
  label.style.color = classColor(m.label, Object.keys(m.probabilities));
  state.lastWithheldReason = null;
  renderBars(m.probabilities);
}

// A window the quality gate withheld: no class, say why (the reason names the channels).
function onWithheld(m) {
  state.nWithheld = (state.nWithheld || 0) + 1;
  const label = $("current-label");
  label.textContent = "withheld";
  label.style.color = "#ff6b6b";
  label.title = m.reason;
  $("st-withheld").textContent = state.nWithheld;
  $("st-quality").textContent = "bad";
  $("st-quality").title = m.reason;
  if (state.lastWithheldReason !== m.reason) log(`withheld: ${m.reason}`, "error");
  state.lastWithheldReason = m.reason;
}

function renderBars(p) {
  const box = $("proba-bars");
  const classes = Object.keys(p);
  if (box.children.length !== classes.length) {
    box.innerHTML = "";
    for (const c of classes) {
      const row = document.createElement("div");
      row.className = "bar-row";
      row.innerHTML = `<span class="bar-name"></span><span class="bar-track"><span class="bar-fill"></span></span><span class="bar-value"></span>`;
      row.querySelector(".bar-name").textContent = c;
      row.querySelector(".bar-fill").style.background = classColor(c, classes);
      box.append(row);
    }
  }
  classes.forEach((c, i) => {
    const row = box.children[i];
    row.querySelector(".bar-fill").style.width = `${(100 * p[c]).toFixed(1)}%`;
    row.querySelector(".bar-value").textContent = p[c].toFixed(2);
  });
}

function onSignal(m) {
  state.nSignals += 1;
  if (m.t.length) clock.observe(m.t[m.t.length - 1]);
  traces.push(m);
  $("signal-missing").hidden = true;
  const now = performance.now();
  if (now - state.lastChannelsRender > 400) {
    state.lastChannelsRender = now;
    renderChannels(m);
    $("signal-info").textContent = `${m.ch_names.length} ch · ${fmt(m.sfreq, 0)} points/s shown`;
  }
}

function renderChannels(m) {
  const tbody = $("channel-rows");
  if (tbody.children.length !== m.ch_names.length) {
    tbody.innerHTML = "";
    for (const ch of m.ch_names) {
      const tr = document.createElement("tr");
      tr.dataset.ch = ch;
      tr.innerHTML = `<td class="ch"></td><td><span class="chip"></span></td>
        <td><span class="bp"><span class="bp-fill mu"></span></span><span class="bp-v mu-v"></span></td>
        <td><span class="bp"><span class="bp-fill beta"></span></span><span class="bp-v beta-v"></span></td>`;
      tr.querySelector(".ch").textContent = ch;
      tbody.append(tr);
    }
  }
  const bp = m.band_power || {};
  let peak = 1e-9;
  for (const v of Object.values(bp)) peak = Math.max(peak, v.mu, v.beta);
  m.ch_names.forEach((ch, i) => {
    const tr = tbody.children[i];
    const q = (m.quality || {})[ch] || "ok";
    const chip = tr.querySelector(".chip");
    chip.textContent = QUALITY_TEXT[q] || q;
    chip.dataset.quality = q;
    chip.style.borderColor = QUALITY_COLORS[q];
    chip.style.color = QUALITY_COLORS[q];
    const v = bp[ch];
    for (const band of ["mu", "beta"]) {
      const fill = tr.querySelector(`.bp-fill.${band}`);
      const text = tr.querySelector(`.${band}-v`);
      if (v) {
        fill.style.width = `${(100 * Math.sqrt(v[band] / peak)).toFixed(1)}%`;
        text.textContent = fmt(v[band], 1);
      } else {
        fill.style.width = "0";
        text.textContent = "–";
      }
    }
  });
}

function onMuSuppression(m) {
  $("card-mu").hidden = false;
  const v = m.smoothed ?? m.index;
  gauge.set(v);
  $("mu-value").textContent = fmt(v, 2);
  $("mu-value").dataset.sign = v < 0 ? "neg" : "pos";
  const parts = [];
  for (const [ch, b] of Object.entries(m.channels || {})) {
    parts.push(`${ch}: mu ${fmt(b.mu, 2)}, beta ${fmt(b.beta, 2)}`);
  }
  // Occipital alpha moves with attention, not the mirror system: shown to check against.
  if (m.occipital_alpha !== undefined && m.occipital_alpha !== null) {
    parts.push(`occipital alpha ${fmt(m.occipital_alpha, 2)}`);
  }
  $("mu-channels").textContent = parts.join(" · ");
}

async function muControl(action) {
  const id = state.sessionId;
  if (!id) return setMsg("mu-msg", "No session selected.", "error");
  const base = `/sessions/${encodeURIComponent(id)}/mu-suppression`;
  let r;
  if (action === "enable") r = await api(base, { method: "PUT", body: {} });
  else if (action === "baseline") {
    const seconds = Number($("mu-baseline-s").value) || 10;
    r = await api(`${base}/baseline`, { method: "POST", body: { seconds } });
  } else r = await api(base, { method: "DELETE" });
  if (!r.ok) return setMsg("mu-msg", r.error, "error");
  const st = r.data || {};
  const text = {
    enable: `On for ${(st.channels || []).join(", ")}; ${st.has_baseline ? "baseline set" : "rest, then set the baseline"}.`,
    baseline: "Baseline set: the index now compares with it.",
    disable: "Off.",
  }[action];
  setMsg("mu-msg", text, "ok");
}

// ------------------------------------------------------------------ calibration
function onCue(m) {
  state.calibrating = true;
  cueView($("cue-overlay"), m);
  if (m.phase === "cue") log(`cue ${m.trial}/${m.n_trials}: ${m.label}`);
  setProgress(m.trial - (m.phase === "cue" ? 0.5 : m.phase === "rest" ? 0 : 1), m.n_trials);
  $("cal-status").textContent = `Trial ${m.trial} of ${m.n_trials}: ${m.phase}${m.label ? ` (${m.label})` : ""}`;
}

function setProgress(done, total) {
  const box = $("cal-progress");
  box.hidden = false;
  box.querySelector(".bar").style.width = `${Math.max(0, Math.min(100, (100 * done) / total))}%`;
}

function onCalibration(m) {
  const overlay = $("cue-overlay");
  log(`calibration ${m.state}${m.error ? `: ${m.error}` : ""}`, m.state === "failed" ? "error" : "");
  if (m.state === "running") {
    state.calibrating = true;
    $("cal-status").textContent = "Calibration running: follow the cues.";
    cueView(overlay, { phase: "start", trial: 0, n_trials: m.progress ? m.progress.n_trials : 0 });
  } else if (m.state === "fitting") {
    $("cal-status").textContent = "All trials collected; fitting and cross-validating the decoder…";
    cueView(overlay, { phase: "fitting" });
  } else {
    state.calibrating = false;
    if (m.state === "done" && m.result) {
      showResult(m.result);
      cueView(overlay, { phase: "done", result: m.result });
      setTimeout(() => {
        if (!state.calibrating) overlay.hidden = true;
      }, 2500);
      loadModels();
      refreshStatus();
    } else {
      overlay.hidden = true;
      $("cal-status").textContent = m.state === "failed" ? `Calibration failed: ${m.error}` : `Calibration ${m.state}.`;
    }
  }
}

function showResult(res) {
  const score = res.cv_score === null || res.cv_score === undefined ? "no CV (too few trials)" : `${fmt(res.cv_score, 3)} (${res.cv_metric})`;
  $("cal-score").textContent = `${score}, model ${res.model_id}`;
  $("cal-status").textContent = `Done: ${res.n_trials} trials${res.n_missed ? `, ${res.n_missed} missed` : ""}; the new model is active.`;
  $("model-id").value = res.model_id;
  setProgress(1, 1);
}

// Progress comes on the WebSocket; polling only backs it up for a run this page started.
async function refreshCalibration() {
  const id = state.sessionId;
  if (!id || !state.polling || !state.features.has("GET", "/sessions/{}/calibration")) return;
  const r = await api(`/sessions/${encodeURIComponent(id)}/calibration`);
  if (!r.ok || id !== state.sessionId) return;
  const p = r.data;
  if (p.state === "running") setProgress(p.trial, p.n_trials);
  if (p.state !== "running" && p.state !== "fitting") state.polling = false;
  if (p.state === "done" && p.result) {
    state.calibrating = false;
    showResult(p.result);
  }
}

function numberOrNull(id) {
  const v = $(id).value.trim();
  return v === "" ? null : Number(v);
}

async function startCalibration() {
  if (!state.sessionId) return setMsg("cal-status", "Start or choose a session first.", "error");
  const body = {
    paradigm: $("cal-paradigm").value,
    trials_per_class: Number($("cal-trials").value),
    pipeline: $("cal-pipeline").value.trim() || "ts-lr",
  };
  for (const [key, id] of [
    ["fixation_s", "cal-fixation"],
    ["trial_s", "cal-trial"],
    ["rest_s", "cal-rest"],
    ["tmin", "cal-tmin"],
    ["tmax", "cal-tmax"],
    ["jitter_s", "cal-jitter"],
  ]) {
    const v = numberOrNull(id);
    if (v !== null) body[key] = v;
  }
  $("cal-score").textContent = "–";
  const r = await api(`/sessions/${encodeURIComponent(state.sessionId)}/calibration`, { method: "POST", body });
  if (!r.ok) return setMsg("cal-status", r.error, "error");
  state.calibrating = true;
  state.polling = true;
  setProgress(0, r.data.n_trials || 1);
  setMsg("cal-status", `Calibration started: ${r.data.n_trials} trials, about ${fmt(r.data.duration_s, 0)} s.`);
}

// ------------------------------------------------------------------ other controls
async function startSession() {
  const name = $("stream-select").value;
  if (!name) return setMsg("session-msg", "Choose a stream first (↻ looks again).", "error");
  setMsg("session-msg", `Binding ${name}…`);
  const r = await api("/sessions", { method: "POST", body: { name } });
  if (!r.ok) return setMsg("session-msg", r.error, "error");
  setMsg("session-msg", `Session ${r.data.id} started on ${name}.`, "ok");
  await loadSessions();
  selectSession(r.data.id);
}

async function stopSession() {
  const id = state.sessionId;
  if (!id) return setMsg("session-msg", "No session selected.", "error");
  state.deleted.add(id);
  if (state.socket) state.socket.close();
  const r = await api(`/sessions/${encodeURIComponent(id)}`, { method: "DELETE" });
  if (!r.ok) {
    state.deleted.delete(id);
    return setMsg("session-msg", r.error, "error");
  }
  setMsg("session-msg", `Session ${id} stopped.`, "ok");
  const list = await loadSessions();
  const next = list.find((s) => s.state !== "stopped");
  selectSession(next ? next.id : null);
}

async function activateModel() {
  const id = state.sessionId;
  const modelId = $("model-id").value.trim();
  if (!id || !modelId) return setMsg("model-msg", "Choose a session and a model id.", "error");
  const r = await api(`/sessions/${encodeURIComponent(id)}/model`, { method: "POST", body: { model_id: modelId } });
  if (!r.ok) return setMsg("model-msg", r.error, "error");
  setMsg("model-msg", `Model ${modelId} active in session ${id}.`, "ok");
  renderStatus(r.data);
}

async function recording(start) {
  const id = state.sessionId;
  if (!id) return setMsg("rec-msg", "No session selected.", "error");
  const r = await api(`/sessions/${encodeURIComponent(id)}/recording`, { method: start ? "POST" : "DELETE", body: start ? {} : undefined });
  if (!r.ok) return setMsg("rec-msg", r.error, "error");
  const rec = r.data && r.data.recording;
  setMsg("rec-msg", start ? `Recording to ${rec ? rec.file : "a new file"}` : "Recording stopped.", "ok");
}

async function startReplay() {
  const path = $("replay-path").value.trim();
  if (!path) return setMsg("replay-msg", "Give a recording name (GET /recordings) or a file path on the server.", "error");
  const r = await api("/replays", { method: "POST", body: { path } });
  if (!r.ok) return setMsg("replay-msg", r.error, "error");
  const name = r.data && (r.data.name || r.data.stream) ? ` as stream ${r.data.name || r.data.stream}` : "";
  setMsg("replay-msg", `Replay started${name}.`, "ok");
  setTimeout(loadStreams, 800);
}

async function setCondition(condition) {
  const streamName = state.session ? state.session.stream.name : null;
  const name = state.hosted.includes(streamName) ? streamName : state.hosted[0];
  if (!name) return;
  const r = await api(`/synthetic/${encodeURIComponent(name)}/condition`, { method: "PUT", body: { condition } });
  setMsg("synthetic-msg", r.ok ? `${name}: ${r.data.condition}` : r.error, r.ok ? "ok" : "error");
}

// ------------------------------------------------------------------ loops
function frame() {
  const tNow = clock.now();
  traces.draw(tNow);
  proba.draw(tNow);
  if (!$("card-mu").hidden) gauge.draw();
  requestAnimationFrame(frame);
}

function tickStats() {
  const lat = state.latencies;
  $("st-latency").innerHTML = lat.length
    ? `${fmt(lat[lat.length - 1])} <small class="muted">/ ${fmt(median(lat))}</small>`
    : "–";
  const comp = state.computes;
  $("st-compute").textContent = comp.length ? fmt(median(comp), 2) : "–";
  const now = performance.now();
  const recent = state.predTimes.filter((t) => now - t <= 2000);
  $("st-rate").textContent = recent.length ? fmt(recent.length / 2, 1) : "–";
  const s = state.session;
  if (
    s && s.state === "running" && !state.nSignals && state.socketOpenedAt !== null &&
    now - state.socketOpenedAt > 3000
  ) {
    $("signal-missing").hidden = false;
  }
}

async function main() {
  state.features = await Features.load();
  applyFeatures();
  $("streams-refresh").onclick = loadStreams;
  $("stream-select").onchange = showStreamInfo;
  $("session-select").onchange = (e) => selectSession(e.target.value);
  $("session-start").onclick = startSession;
  $("session-stop").onclick = stopSession;
  $("cal-start").onclick = startCalibration;
  $("cal-cancel").onclick = async () => {
    if (!state.sessionId) return;
    const r = await api(`/sessions/${encodeURIComponent(state.sessionId)}/calibration`, { method: "DELETE" });
    setMsg("cal-status", r.ok ? "Calibration cancelled." : r.error, r.ok ? "" : "error");
  };
  $("model-select").onchange = (e) => ($("model-id").value = e.target.value);
  $("model-activate").onclick = activateModel;
  $("rec-start").onclick = () => recording(true);
  $("rec-stop").onclick = () => recording(false);
  $("replay-start").onclick = startReplay;
  $("cue-close").onclick = () => ($("cue-overlay").hidden = true);
  for (const b of $("synthetic-buttons").querySelectorAll("button")) {
    b.onclick = () => setCondition(b.dataset.condition);
  }
  $("mu-enable").onclick = () => muControl("enable");
  $("mu-baseline").onclick = () => muControl("baseline");
  $("mu-disable").onclick = () => muControl("disable");
  $("trace-scale").onchange = (e) => traces.setScale(e.target.value);
  $("trace-span").onchange = (e) => (traces.spanS = Number(e.target.value));

  loadHealth();
  loadStreams();
  loadModels();
  loadSynthetic();
  const list = await loadSessions();
  const wanted = new URL(location.href).searchParams.get("session");
  const first = list.find((s) => s.state !== "stopped");
  selectSession(wanted || (first ? first.id : null));
  requestAnimationFrame(frame);
  setInterval(tickStats, 500);
  setInterval(refreshStatus, 1000);
  setInterval(refreshCalibration, 1000);
  setInterval(loadSessions, 5000);
  window.bciDashboard.ready = true;
}

main();
