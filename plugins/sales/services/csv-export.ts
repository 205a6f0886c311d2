/**
 * The CSV export of sales: RFC 4180 (CRLF line ends, fields with `"`, `,`, CR or LF quoted,
 * quotes doubled) and safe to open in a spreadsheet: a text cell starting with `=`, `+`, `-`,
 * `@`, tab or CR would be read as a formula, so it is prefixed with `'` (OWASP's advice). Rows
 * stream from a database cursor and are written as the socket drains, so memory stays flat.
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { inject, injectable } from '../../../core/index.js';
import { formatMinor, minorUnits } from '../currencies.js';
import type { Sale } from '../models/sale.js';
import { SalesLedger, type SaleFilter } from './sales-ledger.js';

const FORMULA_START = /^[=+\-@\t\r]/;

/** One CSV field: neutralised when it could start a formula, quoted when RFC 4180 requires. */
export function csvField(value: string | number | undefined | null): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'number') return String(value);
  const safe = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

const COLUMNS: Array<[header: string, cell: (sale: Sale) => string | number | undefined]> = [
  ['id', (s) => String(s._id)],
  ['sold_at', (s) => s.soldAt.toISOString()],
  ['contact_phone', (s) => s.contactPhone],
  ['agent_id', (s) => s.agentId],
  ['currency', (s) => s.currency],
  ['amount_minor', (s) => s.amount],
  ['amount', (s) => formatMinor(s.amount, minorUnits(s.currency) ?? 0)],
  ['status', (s) => s.status],
  ['campaign_id', (s) => s.attribution?.campaignId],
  ['template_name', (s) => s.attribution?.templateName],
  ['workflow_id', (s) => s.attribution?.workflowId],
  ['execution_id', (s) => s.attribution?.executionId],
  ['notes', (s) => s.notes],
  ['recorded_by', (s) => s.recordedBy],
  ['voided_at', (s) => s.voidedAt?.toISOString()],
];

export const CSV_HEADER = COLUMNS.map(([header]) => header);

@injectable()
export class SalesCsvExport {
  constructor(@inject(SalesLedger) private readonly ledger: SalesLedger) {}

  /** Writes the header and every matching sale, oldest first; stops early when the client goes away. */
  async write(out: Writable, filter: SaleFilter): Promise<number> {
    const emit = async (line: string) => {
      if (out.write(line)) return;
      // A client that disconnects never drains: wait for whichever comes first, then drop the other listener.
      const settled = new AbortController();
      try {
        await Promise.race([once(out, 'drain', { signal: settled.signal }), once(out, 'close', { signal: settled.signal })]);
      } finally {
        settled.abort();
      }
    };
    await emit(`${CSV_HEADER.join(',')}\r\n`);
    let rows = 0;
    for await (const sale of this.ledger.stream(filter)) {
      if (out.destroyed) break;
      await emit(`${COLUMNS.map(([, cell]) => csvField(cell(sale))).join(',')}\r\n`);
      rows++;
    }
    return rows;
  }
}
