import { v7 as uuidv7 } from 'uuid';
import { table } from '@cryptocare/events';
import type { Prisma, PrismaClient } from '../generated/prisma';
import { CONSENT_KINDS, DEFAULT_LANG, type ConsentDocumentText, type ConsentKind } from '../domain/consent-documents';
import type { AuditTrail } from './audit-trail';

type Tx = Prisma.TransactionClient;

export interface CurrentDocument {
  kind: ConsentKind;
  version: string;
  /** Languages this version exists in. */
  langs: string[];
}

export interface ConsentState {
  kind: ConsentKind;
  currentVersion: string;
  state: 'given' | 'outdated' | 'withdrawn' | 'missing';
  givenVersion: string | null;
  givenAt: Date | null;
  withdrawnAt: Date | null;
}

export interface Acceptance {
  kind: string;
  version: string;
  lang?: string;
}

/** What is wrong with a set of acceptances: each kind required, at its current version, in a language it exists in. */
export class ConsentProblem extends Error {
  constructor(
    readonly code: 'CONSENTS_REQUIRED' | 'UNKNOWN_CONSENT',
    message: string,
    readonly required: Array<{ kind: string; version: string }>,
  ) {
    super(message);
  }
}

export class DocumentTextChanged extends Error {}

/** Consent documents and every grant and withdrawal (rows never updated; the latest row of a kind is the state). */
export class ConsentStore {
  constructor(
    private readonly db: PrismaClient,
    private readonly audit: AuditTrail,
    private readonly schema: string,
  ) {}

  /**
   * Stores the repository's documents. A version already stored with another text stops the
   * start: what people agreed to must not change under them (publish a new version instead).
   */
  async publish(documents: ConsentDocumentText[]): Promise<number> {
    let added = 0;
    // Ascending versions, one millisecond apart, so the newest file is current even on a first start.
    const ordered = [...documents].sort((a, b) => a.version.localeCompare(b.version, 'en', { numeric: true }));
    const base = Date.now();
    for (const [i, doc] of ordered.entries()) {
      const stored = await this.db.consentDocument.findUnique({ where: { kind_version_lang: { kind: doc.kind, version: doc.version, lang: doc.lang } } });
      if (stored && stored.sha256 !== doc.sha256) {
        throw new DocumentTextChanged(`docs/legal/${doc.kind}/${doc.version}.${doc.lang}.md differs from the published text (sha256 ${stored.sha256}): publish a new version instead`);
      }
      // skipDuplicates: replicas starting together publish the same files once.
      if (!stored) added += (await this.db.consentDocument.createMany({ data: [{ ...doc, publishedAt: new Date(base + i) }], skipDuplicates: true })).count;
    }
    return added;
  }

  /** The current version of each kind: the one published last. */
  async current(): Promise<Map<ConsentKind, CurrentDocument>> {
    const rows = await this.db.consentDocument.findMany({ select: { kind: true, version: true, lang: true, publishedAt: true }, where: { publishedAt: { lte: new Date() } } });
    const latest = new Map<ConsentKind, { version: string; at: number }>();
    for (const r of rows) {
      const kind = r.kind as ConsentKind;
      const seen = latest.get(kind);
      const at = r.publishedAt.getTime();
      if (!seen || at > seen.at || (at === seen.at && r.version.localeCompare(seen.version, 'en', { numeric: true }) > 0)) latest.set(kind, { version: r.version, at });
    }
    const out = new Map<ConsentKind, CurrentDocument>();
    for (const kind of CONSENT_KINDS) {
      const l = latest.get(kind);
      if (l) out.set(kind, { kind, version: l.version, langs: rows.filter((r) => r.kind === kind && r.version === l.version).map((r) => r.lang).sort() });
    }
    return out;
  }

  /** The current documents with their text in `lang` (English when there is no such translation). */
  async currentDocuments(lang: string) {
    const current = await this.current();
    const docs = [];
    for (const c of current.values()) {
      const chosen = c.langs.includes(lang) ? lang : DEFAULT_LANG;
      const doc = await this.db.consentDocument.findUnique({ where: { kind_version_lang: { kind: c.kind, version: c.version, lang: chosen } } });
      if (doc) docs.push({ ...doc, langs: c.langs });
    }
    return docs;
  }

  /** Checks acceptances against the current documents; throws ConsentProblem naming what is required. */
  async check(accepted: Acceptance[], required: readonly ConsentKind[]): Promise<Array<{ kind: ConsentKind; version: string; lang: string }>> {
    const current = await this.current();
    // What the error names: the kinds required (sign-up), or every current document (a grant).
    const requiredList = (required.length > 0 ? required : [...current.keys()]).map((kind) => ({ kind, version: current.get(kind)?.version ?? '' }));
    const ok: Array<{ kind: ConsentKind; version: string; lang: string }> = [];
    for (const a of accepted) {
      const doc = current.get(a.kind as ConsentKind);
      if (!doc) throw new ConsentProblem('UNKNOWN_CONSENT', `"${String(a.kind).slice(0, 40)}" is not a consent document`, requiredList);
      const lang = a.lang || DEFAULT_LANG;
      if (a.version !== doc.version) {
        throw new ConsentProblem('CONSENTS_REQUIRED', `${doc.kind} version "${String(a.version).slice(0, 20)}" is not the current one (${doc.version})`, requiredList);
      }
      if (!doc.langs.includes(lang)) throw new ConsentProblem('UNKNOWN_CONSENT', `${doc.kind} version ${doc.version} has no text in "${lang.slice(0, 10)}"`, requiredList);
      if (!ok.some((o) => o.kind === doc.kind)) ok.push({ kind: doc.kind, version: doc.version, lang });
    }
    const missing = required.filter((kind) => !ok.some((o) => o.kind === kind)).map((kind) => ({ kind, version: current.get(kind)?.version ?? '' }));
    if (missing.length > 0) {
      throw new ConsentProblem(
        'CONSENTS_REQUIRED',
        `consent required to the current version of: ${missing.map((m) => `${m.kind} (version ${m.version})`).join(', ')}`,
        requiredList,
      );
    }
    return ok;
  }

  /** Records grants (one row and one audit entry each) in `tx`; a kind already given at that version is not recorded again. */
  async grantIn(tx: Tx, userId: string, grants: Array<{ kind: ConsentKind; version: string; lang: string }>, now = new Date()): Promise<number> {
    let recorded = 0;
    for (const g of grants) {
      const last = await tx.consent.findFirst({ where: { userId, kind: g.kind }, orderBy: [{ at: 'desc' }, { id: 'desc' }] });
      if (last?.action === 'granted' && last.version === g.version) continue;
      const doc = await tx.consentDocument.findUniqueOrThrow({ where: { kind_version_lang: { kind: g.kind, version: g.version, lang: g.lang } } });
      await tx.consent.create({ data: { id: uuidv7(), userId, kind: g.kind, version: g.version, lang: g.lang, textSha256: doc.sha256, action: 'granted', at: now } });
      await this.audit.record(tx, 'consent.granted', { actorId: userId, subjectId: userId, details: { kind: g.kind, version: g.version } }, { occurredAt: now });
      recorded++;
    }
    return recorded;
  }

  async grant(userId: string, grants: Array<{ kind: ConsentKind; version: string; lang: string }>): Promise<number> {
    // Serialised per user (row lock on the user), so two grants at the same instant record once.
    return this.db.$transaction(async (tx) => {
      await tx.$queryRawUnsafe(`SELECT 1 FROM ${table(this.schema, 'users')} WHERE id = $1::uuid FOR UPDATE`, userId);
      return this.grantIn(tx, userId, grants);
    });
  }

  /** Withdraws a consent given; returns false when there was none to withdraw (nothing recorded). */
  async withdraw(userId: string, kind: ConsentKind, now = new Date()): Promise<boolean> {
    return this.db.$transaction(async (tx) => {
      await tx.$queryRawUnsafe(`SELECT 1 FROM ${table(this.schema, 'users')} WHERE id = $1::uuid FOR UPDATE`, userId);
      const last = await tx.consent.findFirst({ where: { userId, kind }, orderBy: [{ at: 'desc' }, { id: 'desc' }] });
      if (!last || last.action !== 'granted') return false;
      await tx.consent.create({ data: { id: uuidv7(), userId, kind, version: last.version, lang: last.lang, textSha256: last.textSha256, action: 'withdrawn', at: now } });
      await this.audit.record(tx, 'consent.withdrawn', { actorId: userId, subjectId: userId, details: { kind, version: last.version } }, { occurredAt: now });
      return true;
    });
  }

  /** Given / outdated / withdrawn / missing for every kind. */
  async statusOf(userId: string): Promise<{ consents: ConsentState[]; pending: ConsentKind[] }> {
    const [current, rows] = await Promise.all([this.current(), this.recordsOf(userId)]);
    const consents: ConsentState[] = [];
    for (const kind of CONSENT_KINDS) {
      const currentVersion = current.get(kind)?.version ?? '';
      const mine = rows.filter((r) => r.kind === kind);
      const last = mine[mine.length - 1];
      const lastGrant = [...mine].reverse().find((r) => r.action === 'granted');
      const state: ConsentState['state'] = !last ? 'missing' : last.action === 'withdrawn' ? 'withdrawn' : last.version === currentVersion ? 'given' : 'outdated';
      consents.push({
        kind,
        currentVersion,
        state,
        givenVersion: lastGrant?.version ?? null,
        givenAt: lastGrant?.at ?? null,
        withdrawnAt: last?.action === 'withdrawn' ? last.at : null,
      });
    }
    return { consents, pending: consents.filter((c) => c.state !== 'given').map((c) => c.kind) };
  }

  /** Every grant and withdrawal of the user, oldest first (the export). */
  recordsOf(userId: string) {
    return this.db.consent.findMany({ where: { userId }, orderBy: [{ at: 'asc' }, { id: 'asc' }] });
  }
}
