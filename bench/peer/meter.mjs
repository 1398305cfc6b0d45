// Bytes on the wire of every WebSocket this process opens (the client adapter replaces its socket
// when it reconnects, so one socket's counters would miss some): TCP bytes both ways, WebSocket
// framing included, as Kartka's figures count HTTP bytes with their headers.
import WebSocket from "ws";

const sockets = new Set();
const emit = WebSocket.prototype.emit;
WebSocket.prototype.emit = function (event, ...args) {
  if (event === "open" && this._socket) sockets.add(this._socket);
  return emit.call(this, event, ...args);
};

export function bytes() {
  let read = 0;
  let written = 0;
  for (const s of sockets) {
    read += s.bytesRead;
    written += s.bytesWritten;
  }
  return { read, written };
}
