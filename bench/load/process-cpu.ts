import { execSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { RunningPlatform, ServiceName } from '@cryptocare/testing';

const services: ServiceName[] = ['gateway', 'identity', 'search', 'appointment', 'payment', 'video'];

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ; 100 on every Linux we run on). */
const TICKS_PER_SECOND = 100;

/** The fields of /proc/<pid>/stat after the command name (which may contain spaces), or null. */
function statFields(pid: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/**
 * CPU seconds used so far by each group of processes and their children: a process's own user +
 * system time, the time of the children it has reaped (cutime + cstime: PostgreSQL's backends that
 * ended), and the time of its children alive now (PostgreSQL's pooled backends). Differences of two
 * readings give the CPU of each tree in between. One pass over /proc for all the groups: the
 * timeline reads it every second from inside the load generator.
 */
export function groupCpuSeconds(groups: Record<string, number[]>): Record<string, number> {
  const ticks = new Map<number, number>();
  // After the name: state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14).
  const roots = new Set(Object.values(groups).flat());
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const fields = statFields(pid);
    if (!fields) continue;
    const parent = Number(fields[1]);
    if (roots.has(pid)) ticks.set(pid, (ticks.get(pid) ?? 0) + Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]));
    if (roots.has(parent)) ticks.set(parent, (ticks.get(parent) ?? 0) + Number(fields[11]) + Number(fields[12]));
  }
  return Object.fromEntries(Object.entries(groups).map(([name, pids]) => [name, pids.reduce((sum, pid) => sum + (ticks.get(pid) ?? 0), 0) / TICKS_PER_SECOND]));
}

/**
 * CPU seconds of the whole machine (every core) from /proc/stat: busy, and of that the time the
 * hypervisor gave to other guests while this one had work ("steal"): a virtual machine's cores
 * taken away, which slows every process at once whatever they do.
 */
export function machineCpuSeconds(): { busy: number; stolen: number } {
  const [, ...values] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
  const [user, nice, system, , , irq, softirq, steal] = values.map(Number);
  return { busy: (user! + nice! + system! + irq! + softirq! + steal!) / TICKS_PER_SECOND, stolen: steal! / TICKS_PER_SECOND };
}

/**
 * CPU used by groups of processes over an interval, in cores (1.0 = one core busy the whole time).
 * Call it to read the counters; call the function it returns to read them again and get the figures.
 */
export function measureCpu(groups: Record<string, number[]>): () => Record<string, number> {
  const before = cpuReading(groups);
  return () => cpuBetween(before, cpuReading(groups));
}

/** CPU seconds so far of each group, the load generator and the machine, at one instant. */
export interface CpuReading {
  at: number;
  seconds: Record<string, number>;
}

export function cpuReading(groups: Record<string, number[]>): CpuReading {
  const generator = process.cpuUsage();
  const machine = machineCpuSeconds();
  return {
    at: performance.now(),
    seconds: { ...groupCpuSeconds(groups), 'load generator': (generator.user + generator.system) / 1e6, 'machine (all)': machine.busy, 'stolen by the hypervisor': machine.stolen },
  };
}

/** Cores used by each between two readings (1.0 = one core busy the whole time). */
export function cpuBetween(before: CpuReading, after: CpuReading): Record<string, number> {
  const seconds = (after.at - before.at) / 1000;
  return Object.fromEntries(Object.entries(after.seconds).map(([name, value]) => [name, Math.round(((value - before.seconds[name]!) / seconds) * 100) / 100]));
}

/** The processes whose CPU a benchmark reports: each service's replicas and the infrastructure's servers. */
export function pidsOf(platform: RunningPlatform): Record<string, number[]> {
  const groups: Record<string, number[]> = Object.fromEntries(services.map((s) => [s, platform.pids(s)]));
  const infra = (pattern: string) => {
    try {
      return execSync(`pgrep -o -f '${pattern}'`, { encoding: 'utf8' }).trim().split('\n').map(Number).filter(Boolean);
    } catch {
      return [];
    }
  };
  groups.postgresql = infra('postgres -D|bin/postgres');
  groups.redis = infra('redis-server');
  groups.kafka = infra('kafka.Kafka');
  return groups;
}
