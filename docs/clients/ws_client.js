// A minimal bci feedback client: read decisions, move something, send the app's events back.
// Browser: <script type="module" src="ws_client.js"></script> on a page served by bci.
// Node >= 22 (20: --experimental-websocket): node ws_client.js URL?token=TOKEN [N decisions]
// The token is the one `bci serve` prints; in a page, use the subprotocol form instead:
// new WebSocket(url, ["bci", `bearer.${token}`]) keeps it out of the URL.
const args = globalThis.process?.argv ?? [];
const url = args[2] ?? "ws://127.0.0.1:8000/ws/sessions/1?token=TOKEN";
const max = Number(args[3] ?? Infinity);

const ws = new WebSocket(url);
let n = 0;
let x = 0; // the app's object: pushed left or right by the probabilities

ws.onmessage = (event) => {
  const msg = JSON.parse(event.data);
  switch (msg.type) {
    case "hello": // the session's status, once, on connection
      console.log(`session ${msg.session.id} decoding stream ${msg.session.stream.name}`);
      break;
    case "prediction": {
      const p = msg.probabilities; // {class: probability}, e.g. {left: 0.8, right: 0.2}
      x += 0.1 * ((p.right ?? 0) - (p.left ?? 0));
      const probs = Object.entries(p).map(([c, v]) => `${c}=${v.toFixed(2)}`).join(" ");
      console.log(
        `t=${msg.t.toFixed(3)} ${msg.label} ${probs} x=${x.toFixed(2)} ` +
          `latency=${msg.latency_ms.toFixed(1)} ms model=${msg.model_id}`,
      );
      n += 1;
      // An app event (a trial ends, a video starts): stamped on the LSL clock and recorded.
      if (n === 5) ws.send(JSON.stringify({ type: "event", value: "trial_end" }));
      if (n >= max) ws.close();
      break;
    }
    case "event_ack":
      console.log(`event ${msg.value} stamped at LSL t=${msg.t.toFixed(3)}`);
      break;
    case "status": // starting, running, stalled, stopped, error
      console.log(`session ${msg.previous} -> ${msg.state}`);
      break;
    case "error":
      console.error(`error: ${msg.detail}`);
      break;
    default: // marker, model, cue, calibration, signal, ...: not needed here
  }
};
ws.onclose = (event) => console.log(`closed (code ${event.code})`);
