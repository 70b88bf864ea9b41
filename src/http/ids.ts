import { AppError } from '../domain/errors';
import { isPlausibleId } from '../domain/ids';

/** A malformed id in a path cannot name anything: answer exactly as for an unknown one, before any lookup. */
export function checkId(id: string, notFound: (shown: string) => string): string {
  if (!isPlausibleId(id)) throw AppError.notFound(notFound(id.slice(0, 64)));
  return id;
}
