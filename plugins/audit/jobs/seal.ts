import { inject, injectable, type JobContext, type JobHandler } from '../../../core/index.js';
import { DigestSealer } from '../sealer.js';

/** `audit.seal`: seals new entries into digests, on the `sealEvery` schedule. */
@injectable()
export class SealJob implements JobHandler {
  constructor(@inject(DigestSealer) private readonly sealer: DigestSealer) {}

  async run(_data: unknown, ctx: JobContext): Promise<void> {
    const written = await this.sealer.seal();
    if (written) ctx.logger.info('audit digests sealed', { digests: written });
  }
}
