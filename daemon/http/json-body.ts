import { AppError } from '../errors.js';
import type { JitsyncServer } from './app.js';

/**
 * The one request body the API takes: JSON in UTF-8. Every other media type (`text/plain`, a form)
 * answers `415`, as does a charset other than UTF-8; bytes that are not UTF-8 answer `400`, rather
 * than turning into U+FFFD. An empty body is no body, so a route whose fields are all optional
 * (`POST /v1/prewarm`) takes it.
 */
export function acceptJsonBodies(app: JitsyncServer): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, raw, done) => {
    try {
      const charset = charsetOf(request.headers['content-type'] ?? '');
      if (charset !== null && charset !== 'utf-8' && charset !== 'utf8') {
        throw new AppError(415, 'unsupported_media_type', `charset "${charset}" is not supported: send application/json in UTF-8`);
      }
      const buffer = raw as Buffer;
      if (buffer.length === 0) return done(null, undefined);
      done(null, parseJson(decodeUtf8(buffer)));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
}

function charsetOf(contentType: string): string | null {
  for (const parameter of contentType.split(';').slice(1)) {
    const [name = '', value = ''] = parameter.split('=', 2).map((part) => part.trim());
    if (name.toLowerCase() === 'charset') return value.replace(/^"(.*)"$/, '$1').toLowerCase();
  }
  return null;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeUtf8(buffer: Buffer): string {
  try {
    return utf8.decode(buffer);
  } catch {
    throw new AppError(400, 'invalid_request', 'the body is not valid UTF-8');
  }
}

/**
 * Plain JSON.parse: a `__proto__` key stays an ordinary own key there (it sets no prototype), and
 * validation never copies one into place (a strict object refuses it as an unknown field; a
 * record such as `claims` drops it). So, unlike Fastify's default parser, a body holding one is
 * not called invalid JSON.
 */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new AppError(400, 'invalid_request', `the body is not valid JSON: ${(error as Error).message}`);
  }
}
