// The API described as OpenAPI 3.1, generated from the router's own routes
// (path, access, summary, body schema), so the document cannot drift from
// what the box serves. WebSockets (live view, playback) are described in
// firmware/web/live/README.md: OpenAPI has no words for them.
import type { Route, Router } from '../http/router.js';

export function openApiDocument(routes: Route<unknown>[], version: string): Record<string, unknown> {
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
      responses: {
        '2XX': { description: 'success: JSON, or a file or stream where the summary says so' },
        default: { description: 'every refusal and failure, in one shape', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
      },
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
    handler: async () => ({ body: openApiDocument(router.list(), version) }),
  });
}
