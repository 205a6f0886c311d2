#!/usr/bin/env node
/**
 * Verifies an audit export with nothing but Node.js: no configuration, database or Redis.
 *   node dist/plugins/audit/verify-export.js export.ndjson
 * With FLOWGATE_AUDIT_SIGNING_KEY set, digest signatures are checked too. Exit code 0 when
 * intact, 1 when anything was found, 2 on bad usage.
 */
import { verifyExportFile } from './offline.js';

const [file] = process.argv.slice(2);
if (!file) {
  console.error('usage: node dist/plugins/audit/verify-export.js <export.ndjson|export.csv>');
  process.exitCode = 2;
} else {
  const key = process.env.FLOWGATE_AUDIT_SIGNING_KEY;
  const report = await verifyExportFile(file, key ? Buffer.from(key) : undefined);
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  process.exitCode = report.ok ? 0 : 1;
}
