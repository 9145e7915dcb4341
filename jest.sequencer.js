// On a fresh clone (CI) jest knows no durations and starts test files in order of size: the short
// fault run (minutes, in a small file) started last and ran alone at the end of the run. The files
// known to take minutes go first, longest first, so the two workers finish together; the rest keep
// jest's own order (failed first, then by recorded duration or size).
const Sequencer = require('@jest/test-sequencer').default;

const LONGEST_FIRST = [
  'libs/testing/test/faults.test.ts',
  'services/gateway/test/hostile-input.test.ts',
  'services/gateway/test/data-region.test.ts',
  'services/gateway/test/web-client.test.ts',
  'services/gateway/test/embedded-flow.test.ts',
  'services/gateway/test/erasure.test.ts',
  'services/search/test/search-plans.test.ts',
  'services/gateway/test/booking-flow.test.ts',
  'services/gateway/test/money-cases.test.ts',
  'services/gateway/test/audit-consent.test.ts',
  'services/gateway/test/accounts.test.ts',
];

class LongestFirst extends Sequencer {
  sort(tests) {
    const rank = (test) => {
      const i = LONGEST_FIRST.findIndex((file) => test.path.endsWith(file));
      return i < 0 ? LONGEST_FIRST.length : i;
    };
    // Array.prototype.sort is stable: within a rank, jest's order stays.
    return [...super.sort(tests)].sort((a, b) => rank(a) - rank(b));
  }
}

module.exports = LongestFirst;
