import type { IncomingMessage, ServerResponse } from 'node:http';

/** How long, and how much, of a refused request's body is read and thrown away before its connection is cut. */
export const LINGER_MS = 2_000;
export const LINGER_BYTES = 32 * 1024 * 1024;

/**
 * A request refused from its headers alone (401, 403) whose body is still arriving. Closing at once would have the
 * kernel answer the bytes still coming with a reset, which can destroy our answer in the client's receive buffer
 * before it reads it: the client sees ECONNRESET or EPIPE, not the 401. So, as web servers do ("lingering close"),
 * the rest of the body is read and discarded (never parsed or kept) for at most LINGER_MS and LINGER_BYTES, then the
 * connection is closed cleanly; a client still sending after either bound is cut off.
 */
export function lingerThenClose(req: IncomingMessage, res: ServerResponse): void {
  if (req.complete) {
    res.setHeader('connection', 'close');
    return;
  }
  const socket = req.socket;
  let seen = 0;
  const cut = () => socket.destroy();
  const timer = setTimeout(cut, LINGER_MS);
  timer.unref();
  req.on('data', (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > LINGER_BYTES) cut();
  });
  req.once('end', () => {
    clearTimeout(timer);
    // Everything sent has been read: a close now is a clean one, after our answer.
    if (res.writableFinished) socket.end();
    else res.once('finish', () => socket.end());
  });
  socket.once('close', () => clearTimeout(timer));
}
