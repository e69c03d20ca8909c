// The feedback demo: a ball pushed left or right by the decoder's class probabilities.
//
// This is the reference integration for app developers. Everything an app needs is here:
// open the session WebSocket, read `prediction` messages, move something, and send the
// app's own events back (`{"type": "event", "value": ...}`) so they are stamped on the LSL
// clock and recorded with the EEG. No library, no build step.

import { getToken, openSocket, withToken } from "./api.js";

getToken(); // read the #token=... fragment once, before anything else uses the page URL
const params = new URLSearchParams(location.search);
const sessionId = params.get("session") || "1";
const $ = (id) => document.getElementById(id);

// Which classes push left and right: by name, else the first two classes in model order.
function sides(classes) {
  const left = classes.find((c) => /left/i.test(c)) ?? classes[0];
  const right = classes.find((c) => /right/i.test(c) && c !== left) ?? classes.find((c) => c !== left);
  return { left, right };
}

const game = {
  x: 0, // ball position, -1 (left goal) .. +1 (right goal)
  push: 0, // p(right) - p(left) of the latest prediction
  lastPrediction: 0, // performance.now() of the latest prediction
  nPredictions: 0,
  hits: { left: 0, right: 0 },
  frames: 0,
  socket: null,
};
window.bciDemo = game; // for the console and the browser tests

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const ws = openSocket(`${scheme}://${location.host}/ws/sessions/${encodeURIComponent(sessionId)}`);
  game.socket = ws;
  setState("connecting");
  ws.onopen = () => setState("open");
  ws.onclose = (ev) => {
    setState("closed");
    if (ev.code !== 4404) setTimeout(connect, 1000); // 4404: no such session
  };
  ws.onmessage = (ev) => {
    const msg = JSON.parse(ev.data);
    if (msg.type === "prediction") onPrediction(msg);
    else if (msg.type === "error") $("label").textContent = msg.detail;
  };
}

function onPrediction(msg) {
  const p = msg.probabilities;
  const { left, right } = sides(Object.keys(p));
  game.push = (p[right] ?? 0) - (p[left] ?? 0);
  game.lastPrediction = performance.now();
  game.nPredictions += 1;
  $("label").textContent = msg.label;
  $("left-name").textContent = left;
  $("right-name").textContent = right;
  $("left-fill").style.width = `${100 * (p[left] ?? 0)}%`;
  $("right-fill").style.width = `${100 * (p[right] ?? 0)}%`;
  $("left-p").textContent = (p[left] ?? 0).toFixed(2);
  $("right-p").textContent = (p[right] ?? 0).toFixed(2);
  $("latency").textContent = `latency ${msg.latency_ms.toFixed(1)} ms · model ${msg.model_id}`;
}

function setState(s) {
  const el = $("ws-state");
  el.dataset.state = s;
  el.textContent = `WebSocket: ${s}`;
}

function goal(side) {
  game.hits[side] += 1;
  $(`score-${side}`).textContent = game.hits[side];
  const el = $(`goal-${side}`);
  el.classList.add("hit");
  setTimeout(() => el.classList.remove("hit"), 600);
  // The app's own event, stamped by the service on the LSL clock and recorded.
  if (game.socket && game.socket.readyState === WebSocket.OPEN) {
    game.socket.send(JSON.stringify({ type: "event", value: `demo_goal_${side}` }));
  }
  game.x = 0;
}

let last = performance.now();
function frame(now) {
  const dt = Math.min(0.1, (now - last) / 1000);
  last = now;
  const fresh = now - game.lastPrediction < 1000; // stale decisions push nothing
  const gain = Number($("gain").value); // track half-widths per second at full certainty
  game.x += (fresh ? game.push : 0) * gain * dt;
  if (game.x <= -1) goal("left");
  else if (game.x >= 1) goal("right");
  const track = $("ball").parentElement;
  const half = (track.clientWidth - 72) / 2;
  $("ball").style.transform = `translateX(${(game.x * half).toFixed(1)}px)`;
  game.frames += 1;
  requestAnimationFrame(frame);
}

$("session-name").textContent = `session ${sessionId}`;
$("dashboard-link").href = withToken(`/?session=${encodeURIComponent(sessionId)}`);
connect();
requestAnimationFrame(frame);
