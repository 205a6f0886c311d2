/** A server with the sales plugin, a helper to record sales, and the analytics events it emitted. */
import { CoreEvents, type CoreEventMap } from '../../../core/index.js';
import { startTestServer, type TestServer, type TestServerOptions } from '../../helpers/test-host.js';

export interface SaleView {
  id: string;
  contactPhone: string;
  amount: number;
  currency: string;
  minorUnits: number;
  amountDecimal: string;
  agentId: string;
  attribution: { campaignId?: string; templateName?: string; workflowId?: string; executionId?: string };
  status: 'recorded' | 'voided';
  notes?: string;
  soldAt: string;
  revision: number;
  voidedAt?: string;
}

export interface SalesTestServer extends TestServer {
  analytics: Array<CoreEventMap['analytics']>;
  /** Records a sale as a manager (who may record for any agent); fails the test on a non-201. */
  sell(body: Record<string, unknown>): Promise<SaleView>;
}

export async function startSalesServer(label: string, options: TestServerOptions = {}): Promise<SalesTestServer> {
  const t = await startTestServer({ label, plugins: ['http', 'sales'], ...options });
  const analytics: Array<CoreEventMap['analytics']> = [];
  t.server.get(CoreEvents).on('analytics', (event) => { analytics.push(event); });
  return {
    ...t,
    analytics,
    async sell(body) {
      const created = await t.request<SaleView>('post', '/api/sales', { as: 'manager', body });
      if (created.status !== 201) throw new Error(`recording a sale failed: ${created.status} ${created.text}`);
      return created.body;
    },
  };
}

/** Parses RFC 4180 CSV (quoted fields, doubled quotes, CRLF or LF records) into rows of fields. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; } else if (c === '"') quoted = false; else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(field); field = ''; } else if (c === '\r' && text[i + 1] === '\n') { /* the \n ends the record */ } else if (c === '\n') {
      row.push(field); rows.push(row); row = []; field = '';
    } else field += c;
  }
  if (field !== '' || row.length) { row.push(field); rows.push(row); }
  return rows;
}
