// What the wasm reads of a received frame without copying it whole: the start of its text (the
// packet header) and, for connection-state recovery, its last string. Used by every holder of
// a Socket.IO connection: a page's Manager, and the host of a shared connection.

/**
 * Writes the start of received message `data` into `buf` (a view of wasm memory), as much as
 * fits, up to its first character beyond ASCII, written as the byte 0xFF; returns the bytes
 * written, -1 if `data` is not text. The wasm reads a frame's header there: no frame, however
 * long, is copied whole.
 */
export function writeStart(data, buf) {
  if (typeof data != "string") return -1;
  const n = Math.min(data.length, buf.length);
  for (let i = 0; i < n; i++) {
    const c = data.charCodeAt(i);
    if (c > 127) return (buf[i] = 255), i + 1;
    buf[i] = c;
  }
  return n;
}

/**
 * The last element of the JSON array that ends text message `v`, if it is a string that follows
 * another element and holds no quote, backslash or control character (the session's
 * connection-state recovery offset; an offset is short: only the end of `v` is read).
 */
export const lastString = (v) => /,\s*"([^"\\\0-\x1f]*)"\s*]\s*$/.exec(v.slice(-256))?.[1];
