import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { AppError } from '../domain/errors';
import { newRequestId } from '../domain/ids';
import { errorEnvelope } from './api-exception.filter';

/**
 * Requests Node's HTTP parser refuses before any handler runs (headers over 16 KB, a malformed request line...):
 * answered as every other error, with our envelope and an `x-request-id`, where Node alone would send a bare status
 * line. As Node does, only when no answer on this (keep-alive) socket has started; otherwise the socket is closed.
 */
export function answerClientError(
  err: NodeJS.ErrnoException & { rawPacket?: Buffer },
  socket: Duplex & { _httpMessage?: { headersSent?: boolean } | null },
): void {
  if (err.code === 'ECONNRESET' || !socket.writable || socket._httpMessage?.headersSent) {
    socket.destroy();
    return;
  }
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const message =
    status === 431
      ? 'The request headers (or URL) are too large.'
      : status === 408
        ? 'The request took too long to arrive.'
        : 'The request is not valid HTTP.';
  // The request line, if it arrived in this packet, tells which family's envelope to use.
  const path = /^[A-Z]+ (\S+)/.exec(err.rawPacket?.toString('latin1', 0, 512) ?? '')?.[1] ?? '';
  const body = JSON.stringify(errorEnvelope(new AppError('invalid_request', message, { status }), path));
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nconnection: close\r\ncontent-type: application/json; charset=utf-8\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nx-request-id: ${newRequestId()}\r\n\r\n${body}`,
  );
}
