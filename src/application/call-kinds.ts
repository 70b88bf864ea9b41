import { Injectable } from '@nestjs/common';
import type { CallRecord, ChatCompletionRecord, ResponseRecord } from '../domain/call';
import { chatTerminalEvent } from '../domain/chat-events';
import { AppError } from '../domain/errors';
import type { LogEvent } from '../domain/events';
import { acceptedEvents, terminalEvent } from '../domain/response-events';
import type { WebhookSubject } from '../domain/webhooks';
import { JobName } from '../infra/jobs';
import type { CallRecordStore } from '../persistence/call-records.repository';
import { ChatCompletionsRepository } from '../persistence/chat-completions.repository';
import { ResponsesRepository } from '../persistence/responses.repository';

/**
 * What both roles need to know of a kind of call: its job, its noun for messages, its records, whether it logs stream
 * events and how its log ends. How the upstream is called is the worker's alone (worker/protocols).
 */
export interface CallKind<R extends CallRecord = CallRecord> {
  readonly job: JobName;
  readonly noun: string;
  /** The family of webhook events its background calls send. */
  readonly webhookSubject: WebhookSubject;
  readonly repo: CallRecordStore<R>;
  notFound(id: string): AppError;
  /** Whether this call publishes its events to the shared event log (streamed or background). */
  logsEvents(record: R): boolean;
  /** The closing event for a record in a terminal state (not cancelled). */
  terminalEvent(record: R): LogEvent;
  /** The events a log starts with (before the worker's), for a call that logs events. */
  acceptedEvents(record: R): LogEvent[];
}

@Injectable()
export class ResponseCalls implements CallKind<ResponseRecord> {
  readonly job = JobName.RunResponse;
  readonly noun = 'response';
  readonly webhookSubject = 'response';

  constructor(readonly repo: ResponsesRepository) {}

  notFound(id: string): AppError {
    return AppError.notFound(`Response with id '${id}' not found.`);
  }

  logsEvents(record: ResponseRecord): boolean {
    return record.background || record.commonData.requestRawData.stream === true;
  }

  terminalEvent(record: ResponseRecord): LogEvent {
    return terminalEvent(record);
  }

  acceptedEvents(record: ResponseRecord): LogEvent[] {
    return this.logsEvents(record) ? acceptedEvents(record) : [];
  }
}

@Injectable()
export class ChatCalls implements CallKind<ChatCompletionRecord> {
  readonly job = JobName.RunChatCompletion;
  readonly noun = 'chat completion';
  readonly webhookSubject = 'chat.completion';

  constructor(readonly repo: ChatCompletionsRepository) {}

  notFound(id: string): AppError {
    return AppError.notFound(`Chat completion with id '${id}' not found.`);
  }

  logsEvents(record: ChatCompletionRecord): boolean {
    return record.commonData.requestRawData.stream === true;
  }

  terminalEvent(record: ChatCompletionRecord): LogEvent {
    return chatTerminalEvent(record);
  }

  acceptedEvents(): LogEvent[] {
    return [];
  }
}

/** The same kind of call over other records (a call that keeps nothing is held by its job, not by MongoDB). */
export function withRepo<R extends CallRecord>(kind: CallKind<R>, repo: CallRecordStore<R>): CallKind<R> {
  return {
    job: kind.job,
    noun: kind.noun,
    repo,
    notFound: (id) => kind.notFound(id),
    logsEvents: (r) => kind.logsEvents(r),
    terminalEvent: (r) => kind.terminalEvent(r),
    acceptedEvents: (r) => kind.acceptedEvents(r),
    webhookSubject: kind.webhookSubject,
  };
}

/** A kind's label in metrics: `response`, `chat_completion`. */
export const kindLabel = (kind: CallKind): string => kind.noun.replace(/ /g, '_');
