import { parseArgs } from 'node:util';
import { inject, injectable, ProgressBar, type CommandHandler, type CommandIO } from '../../../core/index.js';
import type { VerifyReport } from '../chain.js';
import { AuditKeysToken, type AuditKeys } from '../config.js';
import { verifyExportFile } from '../offline.js';
import { ChainVerification } from '../verification.js';

/**
 * `flowgate audit:verify [--file export.ndjson|csv] [--json]`: checks the stored chain, or an
 * export file offline. Exit code 0 when intact, 1 when anything was found, 2 on bad usage.
 */
@injectable()
export class VerifyCommand implements CommandHandler {
  constructor(
    @inject(ChainVerification) private readonly verification: ChainVerification,
    @inject(AuditKeysToken) private readonly keys: AuditKeys,
  ) {}

  async run(args: readonly string[], io: CommandIO): Promise<number> {
    let options: { file?: string; json?: boolean };
    try {
      options = parseArgs({ args: [...args], options: { file: { type: 'string' }, json: { type: 'boolean' } }, strict: true }).values;
    } catch (error) {
      io.stderr.write(`audit:verify: ${(error as Error).message}\n`);
      return 2;
    }
    const bar = new ProgressBar(io.stderr, 'verify', { unit: 'entries' });
    const progress = (checked: number, total?: number) => bar.update(checked, total, options.file ?? 'audit log');
    const report = options.file ? await verifyExportFile(options.file, this.keys.signing, progress) : await this.verification.verify(undefined, progress);
    bar.done();
    io.stdout.write(options.json ? `${JSON.stringify(report)}\n` : describe(report));
    return report.ok ? 0 : 1;
  }
}

function describe(report: VerifyReport): string {
  const lines = [
    `${report.ok ? 'OK' : 'TAMPERING FOUND'}: ${report.digestsChecked} digests, ${report.entriesChecked} sealed entries checked; ${report.unsealedEntries} entries not sealed yet${report.unverifiableEntries ? `; ${report.unverifiableEntries} entries under missing digests` : ''}`,
    ...report.modified.map((f) => `modified   seq ${f.seq} (entry ${f.id}, digest ${f.digestNo})`),
    ...report.deleted.map((f) => `deleted    seq ${f.seq} (digest ${f.digestNo})`),
    ...report.inserted.map((f) => `inserted   seq ${f.seq} (entry ${f.id}${f.digestNo ? `, within digest ${f.digestNo}` : ''})`),
    ...report.reordered.map((f) => `reordered  seq ${f.seq} holds the entry sealed as seq ${f.sealedSeq} (entry ${f.id}, digest ${f.digestNo})`),
    ...report.digests.map((d) => `digest ${d.digestNo}: ${d.problem}`),
    ...(report.truncated ? ['(more findings were left out)'] : []),
  ];
  return `${lines.join('\n')}\n`;
}
