/**
 * Starts Portkey's open-source gateway (installed in bench/peer/node_modules) for `npm run bench`,
 * bound to 127.0.0.1 only: its start script listens on every interface, so listen() is pinned to
 * loopback here. Arguments are passed through (`--port=N --headless`).
 */
import net from 'node:net';

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === 'object' && args[0] !== null) {
    args[0] = { ...args[0], host: '127.0.0.1' };
    return listen.apply(this, args);
  }
  if (typeof args[0] === 'number' || typeof args[0] === 'string') {
    const callbacks = args.slice(1).filter((a) => typeof a === 'function');
    return listen.call(this, Number(args[0]), '127.0.0.1', ...callbacks);
  }
  return listen.apply(this, args);
};

await import(new URL('./node_modules/@portkey-ai/gateway/build/start-server.js', import.meta.url).href);
