// A PostgreSQL/Redis/Kafka set of the fault suite's own, started, stopped and killed through
// scripts/infra/*.sh (INFRA_DIR and the *_PORT variables), so the suite can break it for real
// without touching the set every other test shares.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, linkSync, statSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../services';

const run = promisify(execFile);

export type InfraComponent = 'postgres' | 'redis' | 'kafka';

export interface OwnInfraPorts {
  pg: number;
  redis: number;
  kafka: number;
  kafkaController: number;
}

/** Loopback ports below the ephemeral range and apart from the shared set (55432, 56379, 59092). */
export const defaultFaultPorts: OwnInfraPorts = { pg: 17432, redis: 17379, kafka: 17092, kafkaController: 17093 };

export interface OwnInfra {
  dir: string;
  databaseUrl: string;
  redisUrl: string;
  kafkaBrokers: string[];
  ports: OwnInfraPorts;
  up(): Promise<void>;
  start(component: InfraComponent): Promise<void>;
  stop(component: InfraComponent): Promise<void>;
  /** Redis only: SIGKILL (scripts/infra/redis.sh kill). */
  kill(component: 'redis'): Promise<void>;
  /** Stops all three (data kept in dir). */
  down(): Promise<void>;
}

export function ownInfra(dir: string, ports: OwnInfraPorts = defaultFaultPorts): OwnInfra {
  const env = {
    ...process.env,
    INFRA_DIR: dir,
    PG_PORT: String(ports.pg),
    REDIS_PORT: String(ports.redis),
    KAFKA_PORT: String(ports.kafka),
    KAFKA_CONTROLLER_PORT: String(ports.kafkaController),
    KAFKA_HEAP_OPTS: '-Xms128m -Xmx384m',
  };
  const script = async (name: string, ...args: string[]) => {
    try {
      await run('bash', [path.join(repoRoot, 'scripts/infra', name), ...args], { env, cwd: repoRoot, maxBuffer: 16 << 20 });
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(`scripts/infra/${name} ${args.join(' ')} failed: ${e.stderr?.slice(-2000) ?? e.message}`);
    }
  };
  return {
    dir,
    ports,
    databaseUrl: `postgresql://cryptocare:cryptocare@127.0.0.1:${ports.pg}/cryptocare`,
    redisUrl: `redis://127.0.0.1:${ports.redis}`,
    kafkaBrokers: [`127.0.0.1:${ports.kafka}`],
    async up() {
      shareKafkaJars(dir);
      await script('up.sh');
    },
    start: (c) => script(`${c}.sh`, 'start'),
    stop: (c) => script(`${c}.sh`, 'stop'),
    kill: (c) => script(`${c}.sh`, 'kill'),
    down: () => script('down.sh'),
  };
}

/**
 * The Kafka jars Maven resolved for the shared set, hard-linked into this set's directory when it
 * has none (saves resolving them again; kafka.sh resolves them itself when there are none to share).
 */
function shareKafkaJars(dir: string): void {
  const own = path.join(dir, 'kafka/libs');
  const shared = path.join(process.env.INFRA_DIR ?? path.join(repoRoot, '.data/infra'), 'kafka/libs');
  if (existsSync(own) || !existsSync(path.join(shared, '.resolved')) || path.resolve(shared) === path.resolve(own)) return;
  mkdirSync(own, { recursive: true });
  try {
    for (const f of readdirSync(shared)) if (statSync(path.join(shared, f)).isFile()) linkSync(path.join(shared, f), path.join(own, f));
  } catch {
    // another filesystem: kafka.sh resolves its own
  }
}
