"""A minimal bci feedback client: read decisions, move something, send the app's events back.

pip install websockets; BCI_TOKEN=<token printed by bci serve> python ws_client.py [URL] [N]
"""

import asyncio
import json
import os
import sys

import websockets

URL = sys.argv[1] if len(sys.argv) > 1 else "ws://127.0.0.1:8000/ws/sessions/1"
MAX = int(sys.argv[2]) if len(sys.argv) > 2 else None
TOKEN = os.environ.get("BCI_TOKEN")  # or put ?token=... in the URL
AUTH = ["bci", f"bearer.{TOKEN}"] if TOKEN else None  # the token as a subprotocol entry


async def main() -> None:
    x = 0.0  # the app's object: pushed left or right by the probabilities
    n = 0
    async with websockets.connect(URL, compression=None, subprotocols=AUTH) as ws:
        async for text in ws:
            msg = json.loads(text)
            if msg["type"] == "hello":  # the session's status, once, on connection
                s = msg["session"]
                print(f"session {s['id']} decoding stream {s['stream']['name']}")
            elif msg["type"] == "prediction":
                p = msg["probabilities"]  # {class: probability}, e.g. {"left": 0.8, ...}
                x += 0.1 * (p.get("right", 0.0) - p.get("left", 0.0))
                probs = " ".join(f"{c}={v:.2f}" for c, v in p.items())
                print(
                    f"t={msg['t']:.3f} {msg['label']} {probs} x={x:.2f} "
                    f"latency={msg['latency_ms']:.1f} ms model={msg['model_id']}"
                )
                n += 1
                # An app event (a trial ends, a video starts): stamped on the LSL clock.
                if n == 5:
                    await ws.send(json.dumps({"type": "event", "value": "trial_end"}))
                if MAX is not None and n >= MAX:
                    break
            elif msg["type"] == "event_ack":
                print(f"event {msg['value']} stamped at LSL t={msg['t']:.3f}")
            elif msg["type"] == "error":
                print(f"error: {msg['detail']}", file=sys.stderr)


if __name__ == "__main__":
    asyncio.run(main())
