"""Where samples come from and go to: LSL, synthetic headset, replay, recording, buffers."""
