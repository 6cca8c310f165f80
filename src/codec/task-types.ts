/**
 * The task envelopes of the cluster API: what the scheduler hands a worker and what comes back.
 * They travel as ordinary frames ({@link encodeTask} is `encodeFrame` with a type check).
 *
 * The task's own kind is `taskType`: `type` is the wire discriminant every message carries.
 *
 * @example
 * ```ts
 * const bytes = encodeTask({ type: 'TaskEnvelope', taskId: 't1', taskType: 'resize', payload,
 *   priority: 0, deadlineMs: 0, timeoutMs: 30_000, attempt: 1 });
 * const task = decodeTask(bytes);
 * ```
 * @module
 */

/** One unit of work for a worker. */
export interface TaskEnvelope {
  type: 'TaskEnvelope';
  taskId: string;
  /** What kind of task this is; the worker's handler is chosen by it. */
  taskType: string;
  payload: Uint8Array;
  /** Larger runs first. */
  priority: number;
  /** Absolute deadline, ms since the epoch; 0 for none. */
  deadlineMs: number;
  /** How long one attempt may run, ms; 0 for no limit. */
  timeoutMs: number;
  /** 1 for the first attempt. */
  attempt: number;
}

export type TaskStatus = 'ok' | 'failed' | 'timeout' | 'cancelled';

/** The outcome of one attempt of a task. */
export interface ResultEnvelope {
  type: 'ResultEnvelope';
  taskId: string;
  status: TaskStatus;
  /** The handler's result bytes (empty when it failed). */
  result: Uint8Array;
  /** What went wrong, when `status` is not `ok`; null otherwise. */
  error: string | null;
}
