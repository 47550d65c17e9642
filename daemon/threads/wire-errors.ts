import { StoreError, storeErrorData, storeErrorFromData, type StoreErrorData } from '../../store/types.js';
import { AppError } from '../errors.js';

/** An error thrown in a worker thread, as data that crosses to the thread that answers. */
export type WireError =
  | { kind: 'app'; status: number; code: string; message: string; details?: unknown }
  | { kind: 'store'; error: StoreErrorData }
  | { kind: 'internal'; message: string; stack?: string };

export function toWire(error: unknown): WireError {
  if (error instanceof AppError) {
    return { kind: 'app', status: error.status, code: error.code, message: error.message, ...(error.details !== undefined ? { details: error.details } : {}) };
  }
  if (error instanceof StoreError) return { kind: 'store', error: storeErrorData(error) };
  const message = error instanceof Error ? error.message : String(error);
  return { kind: 'internal', message, ...(error instanceof Error && error.stack ? { stack: error.stack } : {}) };
}

/** The error `toWire` described, of the same class, so that the HTTP layer maps it as usual. */
export function fromWire(error: WireError): Error {
  switch (error.kind) {
    case 'app':
      return new AppError(error.status, error.code, error.message, error.details);
    case 'store':
      return storeErrorFromData(error.error);
    case 'internal': {
      const internal = new Error(error.message);
      if (error.stack) internal.stack = error.stack;
      return internal;
    }
  }
}
