/**
 * Operators' key management: `npm run keys -- <command>`, with MONGODB_URI (and REDIS_URL or REDIS_CLUSTER_NODES, so
 * running api replicas drop a changed key from their caches at once).
 *
 *   create --user <userId> [--name <name>] [--tier regular|vip|premium] [--rpm N] [--concurrency N]
 *   list [--user <userId>]
 *   update <keyId> [--name <name>] [--tier ...] [--rpm N|default] [--concurrency N|default] [--enable|--disable]
 *   revoke <keyId>
 */
import 'reflect-metadata';
import { type DynamicModule, Global, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { KeyAdminService } from '../application/key-admin.service';
import { type AppConfig, ConfigError, loadConfig } from '../config/app-config';
import { AppError } from '../domain/errors';
import { createKeySchema, updateKeySchema } from '../domain/requests/keys.request';
import { parseRequest } from '../domain/requests/parse';
import { createLogger } from '../infra/logger';
import { RedisBus } from '../infra/redis-bus.service';
import { RedisConnections } from '../infra/redis-connections';
import { APP_CONFIG, LOGGER } from '../config/tokens';
import { ApiKeysRepository } from '../persistence/api-keys.repository';
import { PersistenceModule } from '../persistence/persistence.module';

/** Config and logger for everything the tool loads (the repositories need them too). */
@Global()
@Module({})
class ToolContextModule {
  static forRoot(config: AppConfig): DynamicModule {
    const providers = [
      { provide: APP_CONFIG, useValue: config },
      { provide: LOGGER, useValue: createLogger('warn', 'keys-cli') },
    ];
    return { module: ToolContextModule, providers, exports: providers };
  }
}

@Module({})
class KeysToolModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: KeysToolModule,
      imports: [ToolContextModule.forRoot(config), PersistenceModule.forRoot(config)],
      providers: [
        RedisConnections,
        RedisBus,
        {
          provide: KeyAdminService,
          inject: [ApiKeysRepository, RedisBus],
          useFactory: (repo: ApiKeysRepository, bus: RedisBus) =>
            new KeyAdminService(repo, config.redisUrl || config.redisClusterNodes.length > 0 ? bus : null),
        },
      ],
    };
  }
}

function parseArgs(argv: string[]): {
  command: string;
  positional: string[];
  flags: ReadonlyMap<string, string | true>;
} {
  const [command = 'help', ...rest] = argv;
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (!arg.startsWith('--')) {
      positional.push(arg);
    } else if (arg === '--enable' || arg === '--disable') {
      flags.set(arg.slice(2), true);
    } else {
      const value = rest[i + 1];
      if (value === undefined || value.startsWith('--')) throw new Error(`${arg} needs a value`);
      flags.set(arg.slice(2), value);
      i++;
    }
  }
  return { command, positional, flags };
}

/** The flags as the admin API's body, validated by the same schema. */
function bodyOf(flags: ReadonlyMap<string, string | true>): Record<string, unknown> {
  const num = (v: string | true | undefined) => (v === undefined ? undefined : v === 'default' ? null : Number(v));
  const body: Record<string, unknown> = {
    user_id: flags.get('user'),
    name: flags.get('name'),
    tier: flags.get('tier'),
    rpm: num(flags.get('rpm')),
    concurrency: num(flags.get('concurrency')),
    enabled: flags.has('enable') ? true : flags.has('disable') ? false : undefined,
  };
  return Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined));
}

const USAGE = `usage: npm run keys -- create --user <userId> [--name N] [--tier regular|vip|premium] [--rpm N] [--concurrency N]
       npm run keys -- list [--user <userId>]
       npm run keys -- update <keyId> [--name N] [--tier T] [--rpm N|default] [--concurrency N|default] [--enable|--disable]
       npm run keys -- revoke <keyId>`;

async function main(): Promise<number> {
  const { command, positional, flags } = parseArgs(process.argv.slice(2));
  if (!['create', 'list', 'update', 'revoke'].includes(command)) {
    process.stdout.write(`${USAGE}\n`);
    return command === 'help' ? 0 : 2;
  }
  const config = loadConfig(process.env, 'tool');
  const app = await NestFactory.createApplicationContext(KeysToolModule.forRoot(config), {
    logger: false,
    abortOnError: false,
  });
  try {
    const keys = app.get(KeyAdminService);
    let out: unknown;
    if (command === 'create') {
      const created = await keys.create(parseRequest(createKeySchema, bodyOf(flags)));
      out = created;
      process.stderr.write('Store the secret now: it is not shown again.\n');
    } else if (command === 'list') {
      const user = flags.get('user');
      out = await keys.list(typeof user === 'string' ? user : undefined);
    } else if (command === 'update') {
      out = await keys.update(positional[0] ?? '', parseRequest(updateKeySchema, bodyOf(flags)));
    } else {
      out = await keys.revoke(positional[0] ?? '');
    }
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return 0;
  } finally {
    await app.close();
  }
}

main()
  .then((code) => process.exit(code))
  .catch((err: unknown) => {
    const message = err instanceof ConfigError || err instanceof Error ? err.message : String(err);
    process.stderr.write(`keys: ${message}\n`);
    process.exit(err instanceof AppError && !['internal', 'unavailable', 'timeout'].includes(err.kind) ? 2 : 1);
  });
