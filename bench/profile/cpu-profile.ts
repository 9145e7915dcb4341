import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

/** The parts of V8's .cpuprofile (written by `node --cpu-prof`) that self time needs. */
interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }>;
  startTime: number;
  endTime: number;
  samples: number[];
}

export interface FunctionCost {
  name: string;
  where: string;
  selfMs: number;
  /** Share of all samples, idle included (percent). */
  share: number;
}

/** Self time per function (summed over the profiles), heaviest first; idle and GC named as V8 names them. */
export function heaviestFunctions(files: string[], top: number): FunctionCost[] {
  const costs = new Map<string, FunctionCost>();
  let totalMs = 0;
  for (const file of files) {
    const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    const msPerSample = (profile.endTime - profile.startTime) / 1000 / Math.max(1, profile.samples.length);
    for (const node of profile.nodes) {
      const ms = (node.hitCount ?? 0) * msPerSample;
      totalMs += ms;
      const { functionName, url, lineNumber } = node.callFrame;
      const where = url ? `${relative(process.cwd(), url.replace(/^file:\/\//, ''))}:${lineNumber + 1}` : '';
      const key = `${functionName}@${where}`;
      const cost = costs.get(key) ?? { name: functionName || '(anonymous)', where, selfMs: 0, share: 0 };
      cost.selfMs += ms;
      costs.set(key, cost);
    }
  }
  return [...costs.values()]
    .map((c) => ({ ...c, share: (c.selfMs / Math.max(1, totalMs)) * 100 }))
    .sort((a, b) => b.selfMs - a.selfMs)
    .slice(0, top);
}
