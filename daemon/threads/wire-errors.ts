import {
  AlreadyExistsError,
  ConflictError,
  NotFoundError,
  StoreBusyError,
  StoreError,
  StoreUnavailableError,
  type UniqueKey,
} from '../../store/types.js';
import { AppError } from '../errors.js';

/** An error thrown in a worker thread, as data that crosses to the thread that answers. */
export type WireError =
  | { kind: 'app'; status: number; code: string; message: string; details?: unknown }
  | { kind: 'store-busy'; waitedMs: number }
  | { kind: 'store-unavailable'; message: string }
  | { kind: 'not-found'; entity: string; key: string }
  | { kind: 'already-exists'; key: UniqueKey; value: string }
  | { kind: 'conflict'; message: string }
  | { kind: 'store'; message: string }
  | { kind: 'internal'; message: string; stack?: string };

export function toWire(error: unknown): WireError {
  if (error instanceof AppError) {
    return { kind: 'app', status: error.status, code: error.code, message: error.message, ...(error.details !== undefined ? { details: error.details } : {}) };
  }
  if (error instanceof StoreBusyError) return { kind: 'store-busy', waitedMs: error.waitedMs };
  if (error instanceof StoreUnavailableError) return { kind: 'store-unavailable', message: error.message };
  if (error instanceof NotFoundError) return { kind: 'not-found', entity: error.entity, key: error.key };
  if (error instanceof AlreadyExistsError) return { kind: 'already-exists', key: error.key, value: error.value };
  if (error instanceof ConflictError) return { kind: 'conflict', message: error.message };
  if (error instanceof StoreError) return { kind: 'store', message: error.message };
  const message = error instanceof Error ? error.message : String(error);
  return { kind: 'internal', message, ...(error instanceof Error && error.stack ? { stack: error.stack } : {}) };
}

/** The error `toWire` described, of the same class, so that the HTTP layer maps it as usual. */
export function fromWire(error: WireError): Error {
  switch (error.kind) {
    case 'app':
      return new AppError(error.status, error.code, error.message, error.details);
    case 'store-busy':
      return new StoreBusyError(error.waitedMs);
    case 'store-unavailable':
      return new StoreUnavailableError(error.message);
    case 'not-found':
      return new NotFoundError(error.entity, error.key);
    case 'already-exists':
      return new AlreadyExistsError(error.key, error.value);
    case 'conflict':
      return new ConflictError(error.message);
    case 'store':
      return new StoreError(error.message);
    case 'internal': {
      const internal = new Error(error.message);
      if (error.stack) internal.stack = error.stack;
      return internal;
    }
  }
}
