/**
 * JSON in and out for the control API: every answer is JSON, every failure is
 * `{"error": {"code", "message"}}` with the HTTP status of its TunnelError code.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { TunnelError, type ErrorCode } from '@burrow/protocol';

/** Largest request body the API reads; its bodies are small JSON objects. */
export const MAX_API_BODY_BYTES = 64 * 1024;

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  const text = status === 204 ? '' : `${JSON.stringify(body)}\n`;
  res.writeHead(status, {
    ...headers,
    'Cache-Control': 'no-store',
    ...(status === 204 ? {} : { 'Content-Type': 'application/json; charset=utf-8' }),
    'Content-Length': String(Buffer.byteLength(text)),
  });
  res.end(text);
}

export function errorBody(code: ErrorCode, message: string): { error: { code: string; message: string } } {
  return { error: { code, message } };
}

export function sendApiError(
  res: ServerResponse,
  err: TunnelError,
  headers: Record<string, string> = {},
): void {
  sendJson(res, err.status, errorBody(err.code, err.message), {
    ...headers,
    'X-Burrow-Error': err.code,
  });
}

/**
 * Reads the request body as a JSON object. An empty body is `{}`; anything else must be
 * `application/json`, at most MAX_API_BODY_BYTES, and an object.
 */
export async function readJsonObject(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_API_BODY_BYTES) {
      throw new TunnelError(
        'TUN_ERR_PAYLOAD_TOO_LARGE',
        `API request bodies are at most ${MAX_API_BODY_BYTES} bytes`,
      );
    }
    chunks.push(chunk);
  }
  if (size === 0) return {};
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') {
    throw new TunnelError(
      'TUN_ERR_INVALID_INPUT',
      `send the body as JSON with "Content-Type: application/json" (got "${type || 'none'}")`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (err) {
    throw new TunnelError('TUN_ERR_INVALID_INPUT', `the body is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TunnelError('TUN_ERR_INVALID_INPUT', 'the body must be a JSON object');
  }
  return value as Record<string, unknown>;
}

/**
 * A failure as the API answers it. Policy validation reports TUN_ERR_BAD_MESSAGE (502 on the
 * data path, where the agent sent it); through the API the caller sent it, so it is a 400.
 */
export function asApiError(err: TunnelError): TunnelError {
  if (err.code === 'TUN_ERR_BAD_MESSAGE') return new TunnelError('TUN_ERR_INVALID_INPUT', err.message);
  return err;
}
