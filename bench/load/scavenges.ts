/**
 * V8's own account of each garbage collection, as `node --trace-gc --trace-gc-nvp` prints it (one
 * line of name=value pairs per collection): what the Prometheus histogram cannot say, how much of
 * the young generation survived a scavenge and how much of that was moved to the old generation.
 */
export interface Collection {
  /** s: scavenge (young generation); mc: mark-compact (whole heap); other kinds as V8 names them. */
  kind: string;
  pauseMs: number;
  /** Bytes allocated since the previous collection. */
  allocated: number;
  /** Young objects still alive (scavenges). */
  survived: number;
  /** Bytes moved to the old generation. */
  promoted: number;
  /** Live objects of the whole heap after it (meaningful after a mark-compact). */
  objectsAfter: number;
}

/** The collections of a process's output, in order; other lines are ignored. */
export function collectionsIn(output: string): Collection[] {
  const collections: Collection[] = [];
  for (const line of output.split('\n')) {
    const kind = / gc=(\w+) /.exec(line)?.[1];
    if (!kind || !/ pause=/.test(line)) continue;
    const field = (name: string) => Number(new RegExp(` ${name}=([\\d.]+)`).exec(line)?.[1] ?? 0);
    collections.push({ kind, pauseMs: field('pause'), allocated: field('allocated'), survived: field('new_space_survived'), promoted: field('promoted'), objectsAfter: field('end_object_size') });
  }
  return collections;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? 0 : sorted[Math.floor((sorted.length - 1) / 2)]!;
};
const mb = (bytes: number) => Math.round(bytes / 1e5) / 10;

/** One line for a report: scavenges (count, pauses, what survived and was promoted) and mark-compacts. */
export function describeCollections(collections: Collection[]): string {
  const scavenges = collections.filter((c) => c.kind === 's');
  const compactions = collections.filter((c) => c.kind === 'mc');
  const total = (list: Collection[]) => Math.round(list.reduce((ms, c) => ms + c.pauseMs, 0));
  return (
    `${scavenges.length} scavenges, ${total(scavenges)} ms in them (median ${median(scavenges.map((c) => c.pauseMs))} ms, over 10 ms ${scavenges.filter((c) => c.pauseMs > 10).length}); ` +
    `each: ${mb(median(scavenges.map((c) => c.allocated)))} MB allocated, ${mb(median(scavenges.map((c) => c.survived)))} MB survived, ${mb(median(scavenges.map((c) => c.promoted)))} MB promoted (medians); ` +
    `${compactions.length} mark-compacts, ${total(compactions)} ms, live after: ${compactions.map((c) => `${mb(c.objectsAfter)} MB`).join(', ') || 'none'}`
  );
}
