/**
 * The control API's OpenAPI 3.1 document, served at `/api/v1/openapi.json` and copied to
 * `docs/openapi.json` (a test keeps both, and the route table, in step).
 */

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: object) => ({ 'application/json': { schema } });
const answer = (description: string, schema?: object) =>
  schema === undefined ? { description } : { description, content: json(schema) };

const ERRORS = {
  '400': answer(
    'Malformed input; the message names the field (TUN_ERR_INVALID_INPUT, TUN_ERR_NAME_INVALID).',
    ref('Error'),
  ),
  '401': answer(
    'No key, or a malformed, unknown or revoked key, or a disabled user (TUN_ERR_UNAUTHORIZED).',
    ref('Error'),
  ),
  '403': answer(
    'The key lacks the `api` scope, or asked to grant a scope it lacks (TUN_ERR_FORBIDDEN).',
    ref('Error'),
  ),
  '429': answer(
    'Too many wrong keys from this address (TUN_ERR_AUTH_LOCKED, with Retry-After), or the per-address request rate.',
    ref('Error'),
  ),
};
const NOT_FOUND = answer(
  "No such resource among the caller's (another user's resource answers the same way).",
  ref('Error'),
);

const nameParam = {
  name: 'name',
  in: 'path',
  required: true,
  schema: { type: 'string' },
  description: 'Tunnel name (a DNS label).',
};
const hostParam = {
  name: 'hostname',
  in: 'path',
  required: true,
  schema: { type: 'string' },
  description: 'Custom hostname.',
};
const idParam = {
  name: 'id',
  in: 'path',
  required: true,
  schema: { type: 'string' },
  description: 'Key id (`key_…`) or prefix.',
};
const requestIdParam = {
  name: 'id',
  in: 'path',
  required: true,
  schema: { type: 'string' },
  description: 'Request id (the `X-Request-Id` the origin got).',
};
const queryParam = (name: string, description: string, schema: object = { type: 'string' }) => ({
  name,
  in: 'query',
  required: false,
  schema,
  description,
});
const requestFilters = [
  queryParam('status', 'Status class.', { enum: ['1xx', '2xx', '3xx', '4xx', '5xx'] }),
  queryParam('method', 'HTTP method (matched upper-cased), e.g. `POST`.'),
  queryParam('path_prefix', 'Path (with query, as recorded) starting with this; begins with `/`.', {
    type: 'string',
    maxLength: 2048,
  }),
  queryParam('since', 'Started at or after (RFC 3339).', { type: 'string', format: 'date-time' }),
  queryParam('until', 'Started before (RFC 3339); later than `since`.', {
    type: 'string',
    format: 'date-time',
  }),
  queryParam('error_code', 'A code from docs/errors.md, e.g. `TUN_ERR_ORIGIN_REFUSED`.'),
  queryParam('limit', 'Page size.', { type: 'integer', minimum: 1, maximum: 200, default: 50 }),
  queryParam('cursor', "A page's `nextCursor`, unchanged: the next (older) page with the same filters."),
];
const dateTime = { type: 'string', format: 'date-time' };
const nullableDateTime = { type: ['string', 'null'], format: 'date-time' };
const tunnelPolicySchema = {
  type: 'object',
  additionalProperties: false,
  description:
    'Access policy the edge enforces before a request reaches the agent. Every field is optional; agent flags override stored fields one by one. Answers show passwords and tokens as "***".',
  properties: {
    basicAuth: {
      type: 'array',
      items: { type: 'string' },
      maxItems: 32,
      description: '"user:pass" entries; any one admits.',
    },
    authToken: { type: 'string', description: 'Bearer token, `?burrow_token=` or the cookie that sets.' },
    allowIp: {
      type: 'array',
      items: { type: 'string' },
      maxItems: 32,
      description: 'CIDR blocks or addresses, IPv4 or IPv6.',
    },
    denyIp: { type: 'array', items: { type: 'string' }, maxItems: 32 },
    rateLimit: {
      type: 'string',
      pattern: '^[1-9][0-9]{0,5}/[sm]$',
      description: 'Per client IP, e.g. "10/s".',
    },
    requestHeaderAdd: {
      type: 'array',
      items: { type: 'string' },
      maxItems: 32,
      description: '"Name: value" lines.',
    },
    requestHeaderRemove: { type: 'array', items: { type: 'string' }, maxItems: 32 },
    responseHeaderAdd: { type: 'array', items: { type: 'string' }, maxItems: 32 },
    responseHeaderRemove: { type: 'array', items: { type: 'string' }, maxItems: 32 },
    capture: {
      type: 'object',
      additionalProperties: false,
      required: ['bodies'],
      description:
        'Keep request and response headers in the request history (values of `history.redactHeaders` as `***`) and, with `bodies`, both bodies up to `maxBytes` each.',
      properties: {
        bodies: { type: 'boolean' },
        maxBytes: { type: 'integer', minimum: 1, maximum: 1048576, default: 65536 },
      },
    },
    serverTiming: {
      type: 'boolean',
      description: 'Responses carry `Server-Timing: edge;dur=…, tunnel;dur=…, origin;dur=…` (ms).',
    },
  },
};

export const OPENAPI_DOCUMENT = {
  openapi: '3.1.0',
  info: {
    title: 'Burrow control API',
    version: '1',
    description:
      "Manage your own tunnel names, their stored access policy, custom domains, API keys and session history; read your tunnels' statistics and request history, and watch their requests live. Every call needs an API key with the `api` scope; a key sees only its own user's resources, an `admin` key every user's.",
  },
  servers: [{ url: '/api/v1' }],
  security: [{ bearer: [] }],
  paths: {
    '/openapi.json': {
      get: {
        summary: 'This document',
        security: [],
        responses: { '200': answer('The OpenAPI document.', { type: 'object' }) },
      },
    },
    '/me': {
      get: {
        summary: 'The user and key making the call',
        responses: { '200': answer('Who you are.', ref('Me')), ...ERRORS },
      },
    },
    '/tunnels': {
      get: {
        summary: 'Your tunnel names, reserved and temporary, with whether an agent serves them now',
        responses: { '200': answer('Tunnels by name.', ref('TunnelList')), ...ERRORS },
      },
    },
    '/tunnels/{name}': {
      parameters: [nameParam],
      get: {
        summary: 'One of your tunnels, with the state of its certificate',
        responses: {
          '200': answer(
            'The tunnel and `certificate` (for `<name>.<domain>`, else the `*.<domain>` wildcard that serves it).',
            ref('TunnelWithCertificate'),
          ),
          '404': NOT_FOUND,
          ...ERRORS,
        },
      },
      put: {
        summary: 'Reserve a name for your user: only your keys may bind it from now on',
        responses: {
          '200': answer('Already yours (a temporary name of yours becomes reserved).', ref('Tunnel')),
          '201': answer('Reserved.', ref('Tunnel')),
          '409': answer(
            'Another user has the name, or it is a temporary name still in its retention period (TUN_ERR_NAME_TAKEN).',
            ref('Error'),
          ),
          ...ERRORS,
        },
      },
      delete: {
        summary: 'Release a name; custom domains routed to it stop routing',
        responses: {
          '204': answer('Released.'),
          '404': NOT_FOUND,
          '409': answer('An agent serves the name now; stop it first (TUN_ERR_NAME_IN_USE).', ref('Error')),
          ...ERRORS,
        },
      },
    },
    '/tunnels/{name}/policy': {
      parameters: [nameParam],
      get: {
        summary: 'The stored access policy, secrets redacted',
        responses: {
          '200': answer('The policy, or null.', ref('PolicyAnswer')),
          '404': NOT_FOUND,
          ...ERRORS,
        },
      },
      put: {
        summary:
          'Store an access policy; it applies to the live tunnel at once and whenever the name is bound',
        requestBody: { required: true, content: json(ref('TunnelPolicy')) },
        responses: { '200': answer('Stored.', ref('PolicyAnswer')), '404': NOT_FOUND, ...ERRORS },
      },
      delete: {
        summary: 'Remove the stored policy (agent flags still apply)',
        responses: { '204': answer('Removed.'), '404': NOT_FOUND, ...ERRORS },
      },
    },
    '/tunnels/{name}/traffic': {
      parameters: [nameParam],
      get: {
        summary: 'Requests and upgrades the tunnel served since the edge started (deprecated: use /stats)',
        deprecated: true,
        description:
          'Answered from the same counts as `/tunnels/{name}/stats`: `requests` and `upgrades` are finished requests and upgrades plus open WebSockets, `lastRequestAt` when the last one finished.',
        responses: { '200': answer('Counters.', ref('Traffic')), '404': NOT_FOUND, ...ERRORS },
      },
    },
    '/tunnels/{name}/stats': {
      parameters: [nameParam],
      get: {
        summary:
          'Statistics this edge keeps for the tunnel: counts, status classes, error codes, bytes, latency percentiles over the last minute, hour and day, open WebSockets, and the sessions serving it',
        responses: { '200': answer('Statistics.', ref('TunnelStats')), '404': NOT_FOUND, ...ERRORS },
      },
    },
    '/tunnels/{name}/requests': {
      parameters: [nameParam],
      get: {
        summary: "The tunnel's request history, newest first, filtered and paged",
        description:
          'Only records made while the tunnel was yours (an admin key sees all). Captures are left out; fetch one record for its capture. Unknown or repeated query fields are refused.',
        parameters: requestFilters,
        responses: {
          '200': answer('One page; `nextCursor` is null on the last.', ref('RequestPage')),
          '404': NOT_FOUND,
          ...ERRORS,
        },
      },
    },
    '/tunnels/{name}/requests/stream': {
      parameters: [nameParam],
      get: {
        summary: "The tunnel's new requests as they finish, as Server-Sent Events",
        description:
          'Each finished request is an `event: request` whose `id` is the record id and whose `data` is the record (without capture) on one line. A comment line is sent every 15 s. The stream ends with `event: end` and `data: {"reason": "slow-reader" | "edge-closing" | "unauthorized"}` when the reader fell more than 1 MiB behind, the edge shuts down, or the key was revoked or its user disabled (checked at each heartbeat). At most `limits.sseStreamsPerUser` (default 5) open streams per user.',
        responses: {
          '200': {
            description: 'An endless event stream.',
            content: { 'text/event-stream': { schema: { type: 'string' } } },
          },
          '404': NOT_FOUND,
          ...ERRORS,
          '429': answer(
            'This user already holds `limits.sseStreamsPerUser` streams (TUN_ERR_FEED_LIMIT), or as for every call.',
            ref('Error'),
          ),
        },
      },
    },
    '/requests/{id}': {
      parameters: [requestIdParam],
      get: {
        summary: "One request record with its capture (when the tunnel's policy captured it)",
        responses: { '200': answer('The record.', ref('RequestDetail')), '404': NOT_FOUND, ...ERRORS },
      },
    },
    '/requests/{id}/replay': {
      parameters: [requestIdParam],
      post: {
        summary:
          "Send a recorded request through its tunnel again (the record's owner only): same method, path, headers (redacted values left out, the policy's header edits applied) and captured body, a new request id and `X-Burrow-Replay-Of: <id>`; the answer becomes a record with `replayOf`, in the history within `history.flushMs`",
        responses: {
          '201': answer('Sent and answered (or failed: `errorCode`).', ref('ReplayResult')),
          '404': NOT_FOUND,
          '409': answer(
            'The body was not captured whole, it was an upgrade, or another user serves the name now (TUN_ERR_REPLAY_UNAVAILABLE).',
            ref('Error'),
          ),
          '502': answer('No agent serves the tunnel (TUN_ERR_AGENT_OFFLINE).', ref('Error')),
          ...ERRORS,
        },
      },
    },
    '/domains': {
      get: {
        summary: 'Your custom domains',
        responses: { '200': answer('Domains by hostname.', ref('DomainList')), ...ERRORS },
      },
      post: {
        summary: 'Add a custom domain; it routes once its TXT record is published and seen',
        requestBody: { required: true, content: json(ref('NewDomain')) },
        responses: {
          '201': answer('Added; publish `verificationRecord`.', ref('Domain')),
          '409': answer(
            'The hostname is already added, or the tunnel name is taken (TUN_ERR_NAME_TAKEN).',
            ref('Error'),
          ),
          ...ERRORS,
        },
      },
    },
    '/domains/{hostname}': {
      parameters: [hostParam],
      get: {
        summary: 'One of your custom domains, with the state of its certificate',
        responses: {
          '200': answer('The domain and `certificate`.', ref('DomainWithCertificate')),
          '404': NOT_FOUND,
          ...ERRORS,
        },
      },
      patch: {
        summary: 'Route the domain to one of your tunnel names (reserving it if free), or to nothing',
        requestBody: {
          required: true,
          content: json({
            type: 'object',
            required: ['tunnel'],
            properties: { tunnel: { type: ['string', 'null'] } },
          }),
        },
        responses: {
          '200': answer('Routed.', ref('Domain')),
          '404': NOT_FOUND,
          '409': answer('Tunnel name taken.', ref('Error')),
          ...ERRORS,
        },
      },
      delete: {
        summary: 'Remove a custom domain',
        responses: { '204': answer('Removed.'), '404': NOT_FOUND, ...ERRORS },
      },
    },
    '/keys': {
      get: {
        summary: "Your user's API keys (never their secrets)",
        responses: { '200': answer('Keys, oldest first.', ref('KeyList')), ...ERRORS },
      },
      post: {
        summary: 'Create a key for your user with at most the scopes of the calling key',
        requestBody: {
          required: false,
          content: json({
            type: 'object',
            properties: {
              label: { type: 'string', maxLength: 200 },
              scopes: {
                type: 'array',
                items: { enum: ['agent', 'api', 'admin'] },
                default: ['agent', 'api'],
              },
            },
          }),
        },
        responses: { '201': answer('Created; `secret` is shown only here.', ref('NewKey')), ...ERRORS },
      },
    },
    '/keys/{id}': {
      parameters: [idParam],
      delete: {
        summary: 'Revoke one of your keys',
        responses: { '204': answer('Revoked.'), '404': NOT_FOUND, ...ERRORS },
      },
    },
    '/sessions': {
      get: {
        summary: "Your keys' agent sessions, newest first",
        parameters: [
          {
            name: 'limit',
            in: 'query',
            schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
          },
        ],
        responses: { '200': answer('Sessions.', ref('SessionList')), ...ERRORS },
      },
    },
  },
  components: {
    securitySchemes: {
      bearer: { type: 'http', scheme: 'bearer', description: 'An API key: `Authorization: Bearer bk_…`.' },
    },
    schemas: {
      Error: {
        type: 'object',
        required: ['error'],
        properties: {
          error: {
            type: 'object',
            required: ['code', 'message'],
            properties: {
              code: { type: 'string', description: 'Stable code, listed in docs/errors.md.' },
              message: { type: 'string' },
            },
          },
        },
      },
      Me: {
        type: 'object',
        properties: {
          user: {
            type: 'object',
            properties: { id: { type: 'string' }, name: { type: 'string' }, admin: { type: 'boolean' } },
          },
          key: ref('Key'),
        },
      },
      Tunnel: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          kind: { enum: ['temporary', 'named'] },
          url: { type: 'string', format: 'uri' },
          online: { type: 'boolean', description: 'An agent serves it on this edge now.' },
          owner: { type: ['string', 'null'], description: "Owner's user name." },
          hasPolicy: { type: 'boolean' },
          createdAt: dateTime,
          lastActiveAt: dateTime,
        },
      },
      TunnelList: { type: 'object', properties: { tunnels: { type: 'array', items: ref('Tunnel') } } },
      TunnelPolicy: tunnelPolicySchema,
      PolicyAnswer: {
        type: 'object',
        properties: { policy: { oneOf: [ref('TunnelPolicy'), { type: 'null' }] } },
      },
      Traffic: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          since: dateTime,
          requests: { type: 'integer' },
          upgrades: { type: 'integer' },
          lastRequestAt: nullableDateTime,
        },
      },
      LatencyWindow: {
        type: 'object',
        description:
          'Total time of plain requests (not upgrades) that finished in the window; percentiles are the upper edge of a log-scale bin (R10 series, at most 28% above the true value), null without requests.',
        properties: {
          count: { type: 'integer' },
          p50Ms: { type: ['number', 'null'] },
          p90Ms: { type: ['number', 'null'] },
          p99Ms: { type: ['number', 'null'] },
        },
      },
      TunnelStats: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          since: {
            ...dateTime,
            description: 'Counting began: the edge started, or the name last changed hands.',
          },
          sessions: {
            type: 'array',
            items: { type: 'object', properties: { id: { type: 'string' } } },
            description: 'Agent sessions serving the tunnel on this edge now.',
          },
          requests: { type: 'integer', description: 'Plain requests finished.' },
          upgrades: { type: 'integer', description: 'Upgrades (WebSockets) finished.' },
          openWebSockets: { type: 'integer' },
          statusClasses: {
            type: 'object',
            description: 'Finished requests and upgrades by status class; `none` left before any status.',
            properties: Object.fromEntries(
              ['1xx', '2xx', '3xx', '4xx', '5xx', 'none'].map((k) => [k, { type: 'integer' }]),
            ),
          },
          errorCodes: {
            type: 'object',
            additionalProperties: { type: 'integer' },
            description: 'Requests the edge answered or cut with an error code, by code.',
          },
          bytesIn: { type: 'integer', description: 'Body bytes from viewers.' },
          bytesOut: { type: 'integer', description: 'Body bytes to viewers.' },
          lastStatus: { type: ['integer', 'null'] },
          lastStatusAt: nullableDateTime,
          latency: {
            type: 'object',
            properties: {
              minute: ref('LatencyWindow'),
              hour: ref('LatencyWindow'),
              day: ref('LatencyWindow'),
            },
          },
        },
      },
      RequestRecord: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          tunnel: { type: 'string' },
          userId: {
            type: ['string', 'null'],
            description: "The tunnel owner's user id when the request arrived.",
          },
          startedAt: dateTime,
          method: { type: 'string' },
          path: { type: 'string', description: 'As forwarded; at most 2,048 characters.' },
          host: { type: 'string' },
          status: {
            type: 'integer',
            description: 'What the viewer got (101 for an upgrade); 0 when it left first.',
          },
          upgrade: { type: 'boolean' },
          bytesIn: { type: 'integer' },
          bytesOut: { type: 'integer' },
          clientAddress: { type: 'string' },
          traceId: { type: ['string', 'null'] },
          errorCode: { type: ['string', 'null'] },
          timing: {
            type: 'object',
            description:
              'Milliseconds: at the edge before the stream opened, the tunnel round trip, the origin to its first byte, the whole exchange.',
            properties: {
              edgeMs: { type: ['number', 'null'] },
              tunnelMs: { type: ['number', 'null'] },
              originMs: { type: ['number', 'null'] },
              totalMs: { type: 'number' },
            },
          },
          replayOf: { type: ['string', 'null'] },
        },
      },
      RequestPage: {
        type: 'object',
        properties: {
          requests: { type: 'array', items: ref('RequestRecord') },
          nextCursor: { type: ['string', 'null'] },
        },
      },
      RequestCapture: {
        type: ['object', 'null'],
        description:
          'Null unless the tunnel\'s policy captured the request. Redacted header values are "***".',
        properties: {
          requestHeaders: {
            type: 'array',
            items: { type: 'array', items: { type: 'string' }, minItems: 2, maxItems: 2 },
          },
          requestBody: { type: ['string', 'null'], contentEncoding: 'base64' },
          requestBodyTruncated: { type: 'boolean' },
          responseHeaders: {
            type: 'array',
            items: { type: 'array', items: { type: 'string' }, minItems: 2, maxItems: 2 },
          },
          responseBody: { type: ['string', 'null'], contentEncoding: 'base64' },
          responseBodyTruncated: { type: 'boolean' },
        },
      },
      ReplayResult: {
        type: 'object',
        required: ['id', 'replayOf', 'status', 'errorCode'],
        properties: {
          id: { type: 'string', description: "The replay's own record id (its `X-Request-Id`)." },
          replayOf: { type: 'string', description: 'The record that was replayed.' },
          status: { type: 'integer', description: "The origin's status; 0 when there was no answer." },
          errorCode: { type: ['string', 'null'], description: 'Why there was no complete answer, or null.' },
        },
      },
      RequestDetail: {
        allOf: [ref('RequestRecord'), { type: 'object', properties: { capture: ref('RequestCapture') } }],
      },
      NewDomain: {
        type: 'object',
        required: ['hostname'],
        properties: {
          hostname: { type: 'string', examples: ['app.example.org'] },
          tunnel: {
            type: ['string', 'null'],
            description: 'Route to this tunnel name of yours (reserved if free).',
          },
        },
      },
      Domain: {
        type: 'object',
        properties: {
          hostname: { type: 'string' },
          tunnel: { type: ['string', 'null'] },
          verified: { type: 'boolean' },
          verifiedAt: nullableDateTime,
          createdAt: dateTime,
          verificationRecord: {
            type: 'object',
            properties: { name: { type: 'string' }, type: { const: 'TXT' }, value: { type: 'string' } },
          },
        },
      },
      Certificate: {
        type: ['object', 'null'],
        description:
          'The ACME certificate the edge keeps for the host, or null when it has none and ordered none. Never the PEM or key.',
        properties: {
          origin: { enum: ['acme-http-01', 'acme-dns-01'] },
          issuer: {
            type: ['string', 'null'],
            description: "Issuer's common name; null before the first certificate.",
          },
          notBefore: nullableDateTime,
          notAfter: nullableDateTime,
          lastError: {
            type: ['string', 'null'],
            description: 'The last failed order: `TUN_ERR_ACME_*: detail`; null after a success.',
          },
          lastAttemptAt: nullableDateTime,
          nextAttemptAt: { ...nullableDateTime, description: 'No new order before this (back-off).' },
          renewRequested: { type: 'boolean', description: 'Marked by `burrow-edge certs renew`.' },
        },
      },
      TunnelWithCertificate: {
        allOf: [ref('Tunnel'), { type: 'object', properties: { certificate: ref('Certificate') } }],
      },
      DomainWithCertificate: {
        allOf: [ref('Domain'), { type: 'object', properties: { certificate: ref('Certificate') } }],
      },
      DomainList: { type: 'object', properties: { domains: { type: 'array', items: ref('Domain') } } },
      Key: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          prefix: { type: 'string' },
          label: { type: 'string' },
          userId: { type: 'string' },
          scopes: { type: 'array', items: { enum: ['agent', 'api', 'admin'] } },
          createdAt: dateTime,
          lastUsedAt: nullableDateTime,
          revokedAt: nullableDateTime,
        },
      },
      NewKey: {
        allOf: [
          ref('Key'),
          { type: 'object', properties: { secret: { type: 'string', description: 'Shown once.' } } },
        ],
      },
      KeyList: { type: 'object', properties: { keys: { type: 'array', items: ref('Key') } } },
      Session: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          keyId: { type: ['string', 'null'] },
          agent: { type: 'string' },
          remoteAddress: { type: 'string' },
          connectedAt: dateTime,
          disconnectedAt: nullableDateTime,
          reason: { type: ['string', 'null'] },
        },
      },
      SessionList: { type: 'object', properties: { sessions: { type: 'array', items: ref('Session') } } },
    },
  },
} as const;
