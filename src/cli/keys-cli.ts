/**
 * Operators' key management: `npm run keys -- <command>`, with MONGODB_URI (and REDIS_URL or REDIS_CLUSTER_NODES, so
 * running api replicas drop a changed key from their caches at once).
 *
 *   create --user <userId> [--name <name>] [--tier regular|vip|premium] [--rpm N] [--concurrency N]
 *   list [--user <userId>]
 *   update <keyId> [--name <name>] [--tier ...] [--rpm N|default] [--concurrency N|default] [--enable|--disable]
 *   revoke <keyId>
 *   webhook-create --user <userId> --url <url> [--events response.completed,response.failed,...]
 *   webhook-list [--user <userId>]
 *   webhook-update <endpointId> [--url <url>] [--events a,b|all] [--enable|--disable] [--rotate-secret]
 *   webhook-delete <endpointId>
 *   webhook-deliveries <endpointId|global> [--limit N]
 */
import 'reflect-metadata';
import { type DynamicModule, Global, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { KeyAdminService } from '../application/key-admin.service';
import { type AppConfig, ConfigError, loadConfig } from '../config/app-config';
import { AppError } from '../domain/errors';
import { createKeySchema, updateKeySchema } from '../domain/requests/keys.request';
import { createWebhookSchema, updateWebhookSchema } from '../domain/requests/webhooks.request';
import { WebhookAdminService } from '../application/webhook-admin.service';
import { parseRequest } from '../domain/requests/parse';
import { createLogger } from '../infra/logger';
import { RedisBus } from '../infra/redis-bus.service';
import { RedisConnections } from '../infra/redis-connections';
import { APP_CONFIG, LOGGER } from '../config/tokens';
import { ApiKeysRepository } from '../persistence/api-keys.repository';
import { WebhookDeliveriesRepository, WebhookEndpointsRepository } from '../persistence/webhooks.repository';
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
    const withRedis = Boolean(config.redisUrl) || config.redisClusterNodes.length > 0;
    return {
      module: KeysToolModule,
      imports: [ToolContextModule.forRoot(config), PersistenceModule.forRoot(config)],
      providers: [
        {
          provide: WebhookAdminService,
          inject: [WebhookEndpointsRepository, WebhookDeliveriesRepository, RedisBus],
          useFactory: (e: WebhookEndpointsRepository, d: WebhookDeliveriesRepository, bus: RedisBus) =>
            new WebhookAdminService(e, d, config, withRedis ? bus : null),
        },
        RedisConnections,
        RedisBus,
        {
          provide: KeyAdminService,
          inject: [ApiKeysRepository, RedisBus],
          useFactory: (repo: ApiKeysRepository, bus: RedisBus) => new KeyAdminService(repo, withRedis ? bus : null),
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
    } else if (arg === '--enable' || arg === '--disable' || arg === '--rotate-secret') {
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

/** The webhook flags as the admin API's body, validated by the same schema. */
function webhookBodyOf(flags: ReadonlyMap<string, string | true>): Record<string, unknown> {
  const events = flags.get('events');
  const body: Record<string, unknown> = {
    user_id: flags.get('user'),
    url: flags.get('url'),
    events: typeof events === 'string' ? (events === 'all' ? [] : events.split(',').map((e) => e.trim())) : undefined,
    enabled: flags.has('enable') ? true : flags.has('disable') ? false : undefined,
    rotate_secret: flags.has('rotate-secret') ? true : undefined,
  };
  return Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined));
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
       npm run keys -- revoke <keyId>
       npm run keys -- webhook-create --user <userId> --url <url> [--events response.completed,...]
       npm run keys -- webhook-list [--user <userId>]
       npm run keys -- webhook-update <endpointId> [--url U] [--events a,b|all] [--enable|--disable] [--rotate-secret]
       npm run keys -- webhook-delete <endpointId>
       npm run keys -- webhook-deliveries <endpointId|global> [--limit N]`;

const WEBHOOK_COMMANDS = ['webhook-create', 'webhook-list', 'webhook-update', 'webhook-delete', 'webhook-deliveries'];

async function webhookCommand(
  hooks: WebhookAdminService,
  command: string,
  positional: string[],
  flags: ReadonlyMap<string, string | true>,
): Promise<unknown> {
  const id = positional[0] ?? '';
  switch (command) {
    case 'webhook-create': {
      const created = await hooks.create(parseRequest(createWebhookSchema, webhookBodyOf(flags)));
      process.stderr.write('Store the signing secret now: it is not shown again.\n');
      return created;
    }
    case 'webhook-list': {
      const user = flags.get('user');
      return hooks.list(typeof user === 'string' ? user : undefined);
    }
    case 'webhook-update': {
      const updated = await hooks.update(id, parseRequest(updateWebhookSchema, webhookBodyOf(flags)));
      if (updated.secret) process.stderr.write('Store the new signing secret now: it is not shown again.\n');
      return updated;
    }
    case 'webhook-delete':
      return hooks.delete(id);
    default: {
      const limit = Number(flags.get('limit') ?? 20);
      if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new Error('--limit must be 1 to 100');
      return hooks.deliveriesOf(id, limit);
    }
  }
}

async function main(): Promise<number> {
  const { command, positional, flags } = parseArgs(process.argv.slice(2));
  if (![...['create', 'list', 'update', 'revoke'], ...WEBHOOK_COMMANDS].includes(command)) {
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
    if (WEBHOOK_COMMANDS.includes(command)) {
      out = await webhookCommand(app.get(WebhookAdminService), command, positional, flags);
    } else if (command === 'create') {
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
