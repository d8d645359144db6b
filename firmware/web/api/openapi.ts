// The API described as OpenAPI 3.1, generated from the router's own routes
// (path, access, summary, body schema, success response), so the document
// cannot drift from what the box serves. WebSockets (live view, playback) are described in
// firmware/web/live/README.md: OpenAPI has no words for them.
import { json, literal, object } from '../../core/schema.js';
import type { Route, Router } from '../http/router.js';

const ERROR_RESPONSE = { description: 'every refusal and failure, in one shape', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };

/** A body the handler writes itself: text as a string, anything else as bytes. */
function fileSchema(type: string): Record<string, unknown> {
  return /^text\/|\/x-ndjson$/.test(type) ? { type: 'string' } : { type: 'string', format: 'binary' };
}

/** The route's success response under its real status, then the one error shape. */
function responses(r: Route<unknown>): Record<string, unknown> {
  const ok = r.response;
  const out: Record<string, unknown> = {};
  if (!ok) out['2XX'] = { description: 'success (not described)' };
  else if ('file' in ok) out['200'] = { description: ok.description, content: { [ok.file]: { schema: ok.json ? ok.json.toJsonSchema() : fileSchema(ok.file) } } };
  else if (ok.status === 204) out['204'] = { description: ok.description };
  else {
    const body = { description: ok.description ?? r.summary, content: { 'application/json': { schema: ok.json.toJsonSchema() } } };
    for (const status of [ok.status ?? 200, ...(ok.also ?? [])]) out[String(status)] = body;
  }
  out.default = ERROR_RESPONSE;
  return out;
}

export interface OpenApiDocument {
  openapi: '3.1.0';
  info: Record<string, unknown>;
  components: Record<string, unknown>;
  security: Record<string, unknown>[];
  paths: Record<string, Record<string, unknown>>;
}

export function openApiDocument(routes: Route<unknown>[], version: string): OpenApiDocument {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const path = r.path.replace(/:(\w+)/g, '{$1}');
    const params = [...r.path.matchAll(/:(\w+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,128}$' } }));
    const open = r.access === 'public' || r.access === 'setup';
    (paths[path] ??= {})[r.method.toLowerCase()] = {
      summary: r.summary,
      'x-access': r.access,
      ...(params.length ? { parameters: params } : {}),
      ...(r.body ? { requestBody: { required: true, content: { 'application/json': { schema: r.body.toJsonSchema() } } } } : {}),
      ...(r.stream ? { requestBody: { required: true, content: { [r.stream.contentType]: { schema: { type: 'string', format: 'binary', maxLength: r.stream.maxBytes } } } } } : {}),
      ...(open ? { security: [] } : {}),
      responses: responses(r),
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'DVR/NVR firmware API', version, description: 'Every route but the public ones needs a session (cookie dvr_session, plus the x-csrf-token header on changes) or an API token (Authorization: Bearer). x-access is the lowest role allowed.' },
    components: {
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string', description: 'stable, for programs: unauthorized, forbidden, csrf, invalid, not-found, too-large, locked, …' }, message: { type: 'string', description: 'for people' } } } },
        },
      },
      securitySchemes: {
        session: { type: 'apiKey', in: 'cookie', name: 'dvr_session' },
        token: { type: 'http', scheme: 'bearer' },
      },
    },
    security: [{ session: [] }, { token: [] }],
    paths,
  };
}

export function addOpenApiRoute(router: Router, version: string): void {
  router.add({
    method: 'GET', path: '/api/v1/openapi.json', access: 'viewer', summary: 'this API as an OpenAPI 3.1 document',
    response: {
      json: object({ openapi: literal('3.1.0'), info: json(), components: json(), security: json(), paths: json().describe('every route: its access (x-access), body and responses') }),
      description: 'the OpenAPI 3.1 document; its parts are open-ended JSON',
    },
    handler: async () => ({ body: openApiDocument(router.list(), version) }),
  });
}
