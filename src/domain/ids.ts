import { randomBytes } from 'node:crypto';

/** OpenAI-style opaque ids: a prefix and random hex (24 bytes = 48 hex, as observed for resp_). */
export function newId(prefix: string, bytes = 24): string {
  return `${prefix}${randomBytes(bytes).toString('hex')}`;
}

export const newResponseId = (): string => newId('resp_');
export const newRequestId = (): string => newId('req_', 16);

/** Ids we accept in paths: bounded length and a safe alphabet, so bad ids answer 404 cheaply. */
const ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
export function isPlausibleId(id: string): boolean {
  return ID_PATTERN.test(id);
}

export function unixSeconds(date: Date | number): number {
  const ms = typeof date === 'number' ? date : date.getTime();
  return Math.floor(ms / 1000);
}

export const newChatCompletionId = (): string => newId('chatcmpl-', 16);
