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
