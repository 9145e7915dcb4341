import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The documents a person consents to. Their texts live in the repository, docs/legal/<kind>/<version>.<lang>.md
 * (copied next to dist/main.js as dist/legal by scripts/build-service.mjs); identity stores them in
 * its database at start and serves the one published last of each kind as current.
 */
export const CONSENT_KINDS = ['terms', 'privacy', 'teleconsultation', 'cross-border'] as const;
export type ConsentKind = (typeof CONSENT_KINDS)[number];
/** Everyone gives all four at sign-up. */
export const REQUIRED_CONSENTS: readonly ConsentKind[] = CONSENT_KINDS;
/** A video consultation needs these, given at their current version and not withdrawn. */
export const BOOKING_CONSENTS: readonly ConsentKind[] = ['teleconsultation', 'cross-border'];
export const CONSENT_LANGS = ['en', 'fr', 'de'] as const;
export const DEFAULT_LANG = 'en';

export const isConsentKind = (kind: string): kind is ConsentKind => (CONSENT_KINDS as readonly string[]).includes(kind);

export interface ConsentDocumentText {
  kind: ConsentKind;
  version: string;
  lang: string;
  title: string;
  text: string;
  sha256: string;
}

export const textSha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** dist/legal next to the bundle, else the repository's docs/legal (running from source). */
export function consentDocumentsDir(): string {
  for (const dir of [path.join(__dirname, 'legal'), path.resolve(__dirname, '../../../../docs/legal')]) {
    if (existsSync(dir)) return dir;
  }
  throw new Error('consent documents not found: expected dist/legal or docs/legal');
}

const FILE = /^([A-Za-z0-9.-]{1,20})\.([a-z]{2})\.md$/;

/** Every document file; the title is its first heading. A kind without an English text is refused. */
export function loadConsentDocuments(dir = consentDocumentsDir()): ConsentDocumentText[] {
  const documents: ConsentDocumentText[] = [];
  for (const kind of CONSENT_KINDS) {
    const kindDir = path.join(dir, kind);
    const files = existsSync(kindDir) ? readdirSync(kindDir).filter((f) => FILE.test(f)) : [];
    if (!files.some((f) => f.endsWith(`.${DEFAULT_LANG}.md`))) throw new Error(`consent documents: no ${DEFAULT_LANG} text for ${kind} in ${kindDir}`);
    for (const file of files) {
      const [, version, lang] = FILE.exec(file)!;
      const text = readFileSync(path.join(kindDir, file), 'utf8');
      const title = /^#\s+(.+)$/m.exec(text)?.[1]?.trim() ?? kind;
      documents.push({ kind, version: version!, lang: lang!, title, text, sha256: textSha256(text) });
    }
  }
  return documents;
}
