import { readdirSync } from 'node:fs';
import path from 'node:path';

const legal = path.resolve(__dirname, '../../../docs/legal');

/**
 * The consents sign-up requires: every document of docs/legal at its newest version (what identity
 * publishes as current), for the `consents` field of `POST /v1/auth/register`.
 */
export function currentConsents(): Array<{ kind: string; version: string; lang: string }> {
  return readdirSync(legal).map((kind) => {
    const versions = readdirSync(path.join(legal, kind))
      .map((f) => /^(.+)\.en\.md$/.exec(f)?.[1])
      .filter((v): v is string => !!v)
      .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
    return { kind, version: versions[versions.length - 1]!, lang: 'en' };
  });
}
