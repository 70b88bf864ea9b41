import { ConfigError, loadConfig, type AppConfig, type Role } from './app-config';

/** Loads the config for a role or exits with every problem listed (fail fast at boot). */
export function configOrExit(role: Role): AppConfig {
  try {
    return loadConfig(process.env, role);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
}

/**
 * Runs a role's boot; a failure to start is one line on stderr and exit 1, not an unhandled rejection's stack. A port
 * already taken says which setting it is.
 */
export function startOrExit(role: Role, boot: () => Promise<void>): void {
  boot().catch((err: (NodeJS.ErrnoException & { port?: number }) | null | undefined) => {
    const setting = role === 'api' ? 'PORT' : 'WORKER_HTTP_PORT';
    const why =
      err?.code === 'EADDRINUSE'
        ? `port ${err?.port ?? '?'} is already in use: set ${setting} to a free port${role === 'api' ? '' : ' (0: no listener)'}`
        : (err?.stack ?? err?.message ?? String(err));
    process.stderr.write(`${role} could not start: ${why}\n`);
    process.exit(1);
  });
}
