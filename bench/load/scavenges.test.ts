import { collectionsIn, describeCollections } from './scavenges';

// Lines as Node 24 prints them with --trace-gc --trace-gc-nvp (trimmed of fields not read).
const scavenge = (pause: number, survived: number, promoted: number) =>
  `[17284:0x350ca000:0]    80753 ms: pause=${pause} mutator=358.2 gc=s reduce_memory=0 scavenge=11.50 background.scavenge.parallel=33.35 start_object_size=362780312 end_object_size=323178616 allocated=49237464 promoted=${promoted} quarantined_size=0 new_space_survived=${survived} promotion_rate=99.1%`;
const markCompact =
  '[17284:0x350ca000:0]    81572 ms: pause=22.1 mutator=71.7 gc=mc reduce_memory=0 clear=9 background.mark=277.1 start_object_size=348115664 end_object_size=112565504 allocated=5499664 promoted=3544688 new_space_survived=0';

describe('V8 collections from --trace-gc-nvp output', () => {
  const output = ['{"level":30,"msg":"gRPC server listening"}', scavenge(11.5, 7_214_088, 7_320_008), markCompact, scavenge(9.5, 5_000_000, 0), scavenge(4, 6_000_000, 6_500_000), ''].join('\n');

  it('reads each collection and ignores the other lines', () => {
    const collections = collectionsIn(output);
    expect(collections.map((c) => c.kind)).toEqual(['s', 'mc', 's', 's']);
    expect(collections[0]).toEqual({ kind: 's', pauseMs: 11.5, allocated: 49_237_464, survived: 7_214_088, promoted: 7_320_008, objectsAfter: 323_178_616 });
    // `promoted=` is read, not `promotion_rate=`; background work is not the pause.
    expect(collections[1]).toMatchObject({ kind: 'mc', pauseMs: 22.1, promoted: 3_544_688, survived: 0, objectsAfter: 112_565_504 });
  });

  it('sums the pauses and gives the medians of what each scavenge kept', () => {
    expect(describeCollections(collectionsIn(output))).toBe(
      '3 scavenges, 25 ms in them (median 9.5 ms, over 10 ms 1); each: 49.2 MB allocated, 6 MB survived, 6.5 MB promoted (medians); 1 mark-compacts, 22 ms, live after: 112.6 MB',
    );
  });
});
