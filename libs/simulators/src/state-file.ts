// A simulator's state in one JSON file, so that a restarted simulator still knows its invoices and
// meetings (a real provider does not forget them when the merchant's machine restarts).
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { LightningInvoice } from './bolt11';

export class StateFile<T> {
  constructor(readonly file: string) {}

  /** The saved state, or undefined when none was saved yet. */
  load(): T | undefined {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw new Error(`simulator state ${this.file} is not valid JSON: ${(err as Error).message}`);
    }
  }

  /**
   * Replaces the saved state: written to a temporary file, flushed, then renamed over the old one,
   * so a crash at any moment leaves the old state or the new one, never half of either.
   */
  save(state: T): void {
    mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, JSON.stringify(state));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.file);
  }
}

/** A BOLT 11 invoice with its secrets, as JSON (byte strings in hex, the amount as a decimal string). */
export interface LightningInvoiceJson {
  paymentRequest: string;
  paymentHash: string;
  preimage: string;
  paymentSecret: string;
  payeePubkey: string;
  amountMsat: string;
  timestamp: number;
  expirySeconds: number;
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const bytes = (hexText: string) => Uint8Array.from(Buffer.from(hexText, 'hex'));

export function lightningToJson(inv: LightningInvoice): LightningInvoiceJson {
  return { ...inv, paymentHash: hex(inv.paymentHash), preimage: hex(inv.preimage), paymentSecret: hex(inv.paymentSecret), amountMsat: inv.amountMsat.toString() };
}

export function lightningFromJson(json: LightningInvoiceJson): LightningInvoice {
  return { ...json, paymentHash: bytes(json.paymentHash), preimage: bytes(json.preimage), paymentSecret: bytes(json.paymentSecret), amountMsat: BigInt(json.amountMsat) };
}

export const keyToHex = hex;
export const keyFromHex = bytes;
