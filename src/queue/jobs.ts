/**
 * The closed job vocabulary: every queue, job name and payload in one place, so enqueueing the
 * wrong payload on a queue does not compile. Payloads carry ids only; MongoDB holds the truth.
 */

export enum QueueName {
  Responses = 'responses',
}

export enum JobName {
  RunResponse = 'run-response',
}

export interface RunResponsePayload {
  responseId: string;
  userId: string;
  /** The api request that created the job, so api and worker log lines join up. */
  requestId: string;
}

export interface JobPayloads {
  [JobName.RunResponse]: RunResponsePayload;
}

export const JOB_QUEUE: { [J in JobName]: QueueName } = {
  [JobName.RunResponse]: QueueName.Responses,
};

/** Bus channels (Redis pub/sub) between api and workers. */
export enum BusChannel {
  /** api -> workers: the job with this id was cancelled; abort its upstream call. */
  Cancel = 'cancel',
  /** workers/api -> api: this response reached a terminal state. */
  Terminal = 'terminal',
}
