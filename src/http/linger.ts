import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** How long, and how much, of a refused request's body is read and thrown away before its connection is cut. */
export const LINGER_MS = 2_000;
export const LINGER_BYTES = 32 * 1024 * 1024;

/**
 * A request refused from its headers alone (401, 403): the answer says `connection: close` and the body is never
 * parsed. If the body is still arriving, destroying the socket at once (what Node does after a `connection: close`
 * answer) has the kernel answer the bytes still coming with a reset, which can wipe our answer from the client's
 * receive buffer before it reads it: the client sees ECONNRESET or EPIPE, not the 401. So, as web servers do
 * ("lingering close"), only our side is closed once the answer is out and we stop reading (what arrived before is
 * discarded, at most LINGER_BYTES); the connection ends when the client closes its side, or is cut at LINGER_MS.
 */
export function lingerThenClose(req: IncomingMessage, res: ServerResponse): void {
  res.setHeader('connection', 'close');
  if (req.complete) return;
  const socket: Socket = req.socket;
  const cut = () => socket.destroy();
  // Node's http server ends a `connection: close` exchange with socket.destroySoon(); a half-close (FIN after the
  // answer, reading on, as the server allows half-open sockets) is what lets the client read the answer.
  socket.destroySoon = () => socket.end();
  const timer = setTimeout(cut, LINGER_MS);
  timer.unref();
  let seen = 0;
  req.on('data', (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > LINGER_BYTES) cut();
  });
  // Once the answer is out, stop reading: the rest waits in the kernel's buffers (the client's writes stall, it
  // reads our answer meanwhile) and costs us nothing until the connection is cut at LINGER_MS.
  res.once('finish', () => socket.pause());
  socket.once('close', () => clearTimeout(timer));
}
