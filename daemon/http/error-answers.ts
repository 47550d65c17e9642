import type { FastifyError } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { AppError, answerFor } from '../errors.js';

/** The API's error body (docs/api.md): every error, the framework's included, answers in this shape. */
export interface ErrorAnswer {
  status: number;
  error: { code: string; message: string; details?: unknown };
  /** Headers that go with it (`Retry-After` for `store_busy`). */
  headers?: Readonly<Record<string, string>>;
}

/** Largest accepted request body: larger ones get `413`. */
export const BODY_LIMIT = 64 * 1024;

/**
 * Maps any error to the API's error body: the application's own, then the store's and the
 * connectors' (one table: `answerFor`), then validation and the framework's; unknown errors say
 * nothing about internals.
 */
export function errorAnswer(thrown: FastifyError): ErrorAnswer {
  const error = answerFor(thrown) ?? thrown;
  if (error instanceof AppError) {
    return {
      status: error.status,
      error: { code: error.code, message: error.message, ...(error.details !== undefined ? { details: error.details } : {}) },
      ...(error.headers ? { headers: error.headers } : {}),
    };
  }
  if (hasZodFastifySchemaValidationErrors(error)) {
    const details = error.validation.flatMap((issue) => {
      // `body.groups.0`, and `body` itself for a root issue (no stray `body.`).
      const path = [error.validationContext ?? 'body', ...issue.instancePath.split('/').filter((s) => s !== '')].join('.');
      // An unknown field is named as a field of its own rather than as an issue of its parent.
      const keys = issue.keyword === 'unrecognized_keys' ? (issue.params as { keys?: string[] }).keys : undefined;
      if (keys && keys.length > 0) return keys.map((key) => ({ path: `${path}.${key}`, message: 'is not a known field' }));
      return [{ path, message: issue.message ?? 'is not valid' }];
    });
    return {
      status: 400,
      error: { code: 'invalid_request', message: details.map((d) => `${d.path}: ${d.message}`).join('; '), details },
    };
  }
  return frameworkAnswer(error);
}

/** Fastify's own errors (`FST_*`) and any other error that carries an HTTP status. */
function frameworkAnswer(error: FastifyError): ErrorAnswer {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, error: { code: 'payload_too_large', message: `the request body is over ${BODY_LIMIT} bytes` } };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, error: { code: 'unsupported_media_type', message: 'send the body as application/json' } };
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { status: 400, error: { code: 'invalid_request', message: 'the body does not match its Content-Length' } };
    case 'FST_ERR_BAD_URL':
      return { status: 400, error: { code: 'invalid_url', message: 'the URL path is not valid percent-encoding' } };
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return { status: 414, error: { code: 'uri_too_long', message: 'a path parameter is too long' } };
  }
  const status = error.statusCode;
  if (status && status >= 400 && status < 500) {
    return { status, error: { code: 'invalid_request', message: error.message } };
  }
  return { status: 500, error: { code: 'internal', message: 'internal error' } };
}

/**
 * Requests Node's HTTP parser refuses before any route sees them (headers over 16 KiB, a
 * negative `Content-Length`, a malformed request line), answered in the API's shape; the
 * connection is closed, as its state is unknown. `onAnswer` counts and logs them.
 */
export function clientErrorHandler(onAnswer: (status: number, code: string) => void) {
  return (error: NodeJS.ErrnoException, socket: Socket): void => {
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const answer: ErrorAnswer =
      error.code === 'HPE_HEADER_OVERFLOW'
        ? { status: 431, error: { code: 'headers_too_large', message: 'the request line and headers are over 16 KiB' } }
        : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? { status: 408, error: { code: 'request_timeout', message: 'the request did not arrive in time' } }
          : { status: 400, error: { code: 'bad_request', message: 'malformed HTTP request' } };
    const body = JSON.stringify({ error: answer.error });
    if (socket.writable) {
      socket.end(
        `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status]}\r\n` +
          `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    } else socket.destroy();
    onAnswer(answer.status, answer.error.code);
  };
}
