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
 *
 * A job Agenda hands back unrun (it took it ahead of time and then stopped, or found it too far
 * off) gives its claim back too: otherwise the next process to take the job would lose the claim
 * and leave the job locked, unrun, for a lock lifetime.
 */
import type { JobParameters, JobRepository } from 'agenda';
import type { RedisConnection, RedisLock } from '../storage/redis.js';

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
  /** Claims of jobs handed out to this process and not started yet, by job id. */
  private readonly claimed = new Map<string, { at: Date; lock: RedisLock }>();

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
    // The claim goes first: once the job is unlocked, another process may take it at once.
    const unlockJob: JobRepository['unlockJob'] = async (job) => {
      await this.giveBack(String(job._id));
      await repository.unlockJob(job);
    };
    const unlockJobs: JobRepository['unlockJobs'] = async (ids) => {
      await Promise.all(ids.map((id) => this.giveBack(String(id))));
      await repository.unlockJobs(ids);
    };
    const replaced: Partial<Record<PropertyKey, unknown>> = { lockJob, getNextJobToRun, unlockJob, unlockJobs };
    return new Proxy(repository, {
      get(target, property, receiver) {
        if (property in replaced) return replaced[property];
        const value: unknown = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  }

  /** The occurrence this process claimed for the job it is about to run (read once, by the handler). */
  scheduledFor(jobId: string): Date {
    const claim = this.claimed.get(jobId);
    this.claimed.delete(jobId);
    return claim?.at ?? new Date();
  }

  private async giveBack(jobId: string): Promise<void> {
    const claim = this.claimed.get(jobId);
    this.claimed.delete(jobId);
    await claim?.lock.release();
  }

  private async claim(job: JobParameters): Promise<{ job: JobParameters | undefined; lost: boolean }> {
    const id = String(job._id);
    const at = occurrenceOf(job, new Date());
    const lock = await this.redis.tryLock(`agenda.run:${id}:${at.getTime()}`, this.lockLifetimeOf(job.name));
    if (!lock) return { job: undefined, lost: true };
    this.claimed.set(id, { at, lock });
    return { job, lost: false };
  }
}
