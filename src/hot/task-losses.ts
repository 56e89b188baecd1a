/**
 * Which tasks a group member lost to fencing, and which need a new transactional producer, in
 * changelog mode (src/hot/member-runner.ts).
 *
 * A checkpoint's transactions can fail after the group has already handed the member a new
 * assignment: a member frozen past its session timeout wakes up, its consumer rejoins and gets
 * partitions again (the assignment's reload creates new producers, which fence the old ones),
 * and only then does the checkpoint started before the freeze see its commits fail. Such a
 * failure belongs to the old assignment: recording those tasks as lost would make the member
 * drop partitions the group just gave it, leaving them without a reader until the next
 * rebalance. So every assignment of a kind starts a new generation, a checkpoint takes a
 * snapshot of the generations when it drains, and a failure is recorded only when its kind's
 * generation is still the snapshot's (the same rule as Kafka's generation check on offset
 * commits: a commit from an older generation is refused, not applied).
 *
 * Memory: at most one entry per task the member ever owned; entries of a kind are dropped at
 * its next assignment.
 */
import { taskId, type Task } from '../state/changelog.js';

export type TaskKind = Task['kind'];

/** Generations per kind at one instant (see {@link TaskLosses.snapshot}). */
export type Generations = Readonly<Record<TaskKind, number>>;

export class TaskLosses {
  readonly #generation: Record<TaskKind, number> = { input: 0, merge: 0 };
  readonly #lost = new Set<string>();
  readonly #refence = new Set<string>();

  /** A new assignment of `kind`: starts its generation; what was lost of that kind is forgotten. */
  assigned(kind: TaskKind): void {
    this.#generation[kind]++;
    for (const id of this.#lost) if (id.startsWith(`${kind}.`)) this.#lost.delete(id);
  }

  /** The current generations (taken when a checkpoint drains). */
  snapshot(): Generations {
    return { ...this.#generation };
  }

  /**
   * A task's transaction of the checkpoint that took `at` failed; `fenced` when another producer
   * of its transactional id fenced it. Returns false (nothing recorded) when an assignment of the
   * task's kind came since `at`: that assignment already replaced the task's producer.
   */
  failed(at: Generations, task: Task, fenced: boolean): boolean {
    if (this.#generation[task.kind] !== at[task.kind]) return false;
    (fenced ? this.#lost : this.#refence).add(taskId(task));
    return true;
  }

  /** True when the task was fenced in the current generation (another member owns it now). */
  isLost(task: Task): boolean {
    return this.#lost.has(taskId(task));
  }

  /** True when the task's last transaction failed otherwise: its producer must be replaced. */
  needsNewProducer(id: string): boolean {
    return this.#refence.has(id);
  }

  /** The task got a new producer. */
  producerReplaced(id: string): void {
    this.#refence.delete(id);
  }
}
