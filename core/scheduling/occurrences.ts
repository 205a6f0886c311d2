/**
 * One run per occurrence of an Agenda job across processes.
 *
 * Agenda takes a job by a conditional update ("set lockedAt where lockedAt is null"). MongoDB
 * applies that atomically, but FerretDB v1 does not isolate concurrent conditional updates of
 * one document, so two processes polling at the same moment can both take the same job and run
 * it twice. This wraps the job repository: a job the database handed out is only run here if
 * this process also claims its occurrence in Redis (`SET NX`), keyed by the job's id and the
 * time the run is for. The claim is held for the job's lock lifetime, the time after which
 * Agenda itself would hand the job to another process, and is never released early, so a slow
 * loser of the race cannot run the occurrence after the winner finished it.
 *
 * It also remembers that time, so handlers get `scheduledFor` — the same in every process — to
 * derive idempotency keys from (Agenda has already moved `nextRunAt` on when the handler runs).
 */
import type { JobParameters, JobRepository } from 'agenda';
import type { RedisConnection } from '../storage/redis.js';

/** Tries a few more jobs when the one handed out belongs to another process's run. */
const MAX_LOST_CLAIMS_PER_CALL = 10;

/**
 * The time a run handed out is for: when the job was due or, when its previous run started and
 * never finished (its process died), when that run started — a retake of the same occurrence.
 */
export function occurrenceOf(job: Pick<JobParameters, 'nextRunAt' | 'lastRunAt' | 'lastFinishedAt'>, now: Date): Date {
  const lastRun = job.lastRunAt ? new Date(job.lastRunAt) : null;
  const lastFinished = job.lastFinishedAt ? new Date(job.lastFinishedAt) : null;
  if (lastRun && (!lastFinished || lastFinished < lastRun)) return lastRun;
  return job.nextRunAt ? new Date(job.nextRunAt) : now;
}

export class JobOccurrences {
  private readonly claimed = new Map<string, Date>();

  constructor(
    private readonly redis: RedisConnection,
    private readonly lockLifetimeOf: (jobName: string) => number,
  ) {}

  /** A repository that hands out only jobs whose occurrence this process claimed. */
  guard(repository: JobRepository): JobRepository {
    const take = (job: JobParameters | undefined) => (job ? this.claim(job) : Promise.resolve({ job: undefined, lost: false }));
    const lockJob: JobRepository['lockJob'] = async (job, options) => (await take(await repository.lockJob(job, options))).job;
    const getNextJobToRun: JobRepository['getNextJobToRun'] = async (...args) => {
      for (let attempt = 0; attempt < MAX_LOST_CLAIMS_PER_CALL; attempt++) {
        const { job, lost } = await take(await repository.getNextJobToRun(...args));
        if (!lost) return job;
      }
      return undefined;
    };
    return new Proxy(repository, {
      get(target, property, receiver) {
        if (property === 'lockJob') return lockJob;
        if (property === 'getNextJobToRun') return getNextJobToRun;
        const value: unknown = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  }

  /** The occurrence this process claimed for the job it is about to run (read once, by the handler). */
  scheduledFor(jobId: string): Date {
    const at = this.claimed.get(jobId);
    this.claimed.delete(jobId);
    return at ?? new Date();
  }

  private async claim(job: JobParameters): Promise<{ job: JobParameters | undefined; lost: boolean }> {
    const id = String(job._id);
    const at = occurrenceOf(job, new Date());
    const lock = await this.redis.tryLock(`agenda.run:${id}:${at.getTime()}`, this.lockLifetimeOf(job.name));
    if (!lock) return { job: undefined, lost: true };
    this.claimed.set(id, at);
    return { job, lost: false };
  }
}
