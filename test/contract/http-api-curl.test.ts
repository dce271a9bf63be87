import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matchesEventPattern } from '../../infra/event-patterns/event-pattern.js';
import { loadRulePatterns } from '../../infra/event-patterns/rules.js';
import { httpApiEvent, lambdaContext } from '../../infra/local/lambda-events.js';
import type { LocalPam } from '../../infra/local/local-pam.js';
import { type Handler, startLocalHandlers } from '../support/local-handlers.js';
import { makePrivateCa } from '../support/private-ca.js';
import { type SignedRequest, type SigV4Gateway, startSigV4Gateway } from '../support/sigv4-gateway.js';

const run = promisify(execFile);
const HTTP_API_DOC = readFileSync(new URL('../../docs/http-api.md', import.meta.url), 'utf8');
const SECTION = HTTP_API_DOC.slice(
  HTTP_API_DOC.indexOf('## Calling the deployed API'),
  HTTP_API_DOC.indexOf('## Errors'),
);

/** The shell blocks of the section, each command with its continuation lines joined as bash would read them. */
function shellCommands(): string[] {
  const blocks = [...SECTION.matchAll(/```sh\n([\s\S]*?)```/g)].map(([, body]) => body ?? '');
  return blocks.flatMap((block) => block.replace(/\\\n/g, ' ').split('\n').filter(Boolean));
}

const curlLines = shellCommands().filter((line) => line.startsWith('curl --aws-sigv4 '));

const API_ID = 'a1b2c3d4e5';
const REGION = 'eu-west-1';
const HOST = `${API_ID}.execute-api.${REGION}.amazonaws.com`;
// Temporary credentials as aws configure export-credentials gives them: an ASIA key and a session token.
const CREDENTIALS = {
  accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
  secretAccessKey: randomBytes(30).toString('base64'),
  sessionToken: `IQoJb3JpZ2luX2VjE${randomBytes(96).toString('base64')}`,
};

let local: LocalPam;
let list: Handler;
let drop: Handler;
let gateway: SigV4Gateway;
let curlHome: string;
let sessionId: string;

/** What API Gateway passes on once the authorizer is satisfied: the route's event, to the route's function. */
async function route(request: SignedRequest) {
  const path = request.path;
  const query = Object.keys(request.query).length > 0 ? { queryStringParameters: request.query } : {};
  const base = { method: request.method, rawPath: path, ...query };
  let answer: { statusCode: number; body: string };
  if (request.method === 'GET' && path === '/sessions') {
    answer = await list(httpApiEvent({ ...base, routeKey: 'GET /sessions' }), lambdaContext());
  } else if (request.method === 'POST' && path === '/sessions/terminate') {
    const event = httpApiEvent({ ...base, routeKey: 'POST /sessions/terminate' });
    answer = await drop({ ...event, body: request.body }, lambdaContext());
  } else if (request.method === 'DELETE' && path.startsWith('/sessions/')) {
    const id = decodeURIComponent(path.slice('/sessions/'.length));
    answer = await drop(
      httpApiEvent({ ...base, routeKey: 'DELETE /sessions/{sessionId}', pathParameters: { sessionId: id } }),
      lambdaContext(),
    );
  } else {
    return { statusCode: 404, body: JSON.stringify({ message: 'Not Found' }) };
  }
  return { statusCode: answer.statusCode, body: answer.body };
}

beforeAll(async () => {
  ({ local, list, drop } = await startLocalHandlers({}, { PAM_RETRY_BASE_DELAY_MS: '5' }));
  sessionId = local.pam.sessions.find((session) => session.user === 'aoliveira' && session.end === null)
    ?.session_id as string;
  const ca = makePrivateCa();
  gateway = await startSigV4Gateway({
    tls: ca.serverFor(HOST),
    expected: { ...CREDENTIALS, region: REGION, host: HOST },
    route,
  });
  // curl reads its options from $CURL_HOME/.curlrc first: the documented lines run unchanged while their
  // connection goes to the loopback gateway, under the real host name, over TLS it can verify.
  curlHome = mkdtempSync(join(tmpdir(), 'readme-curl-'));
  writeFileSync(join(curlHome, 'ca.pem'), ca.caPem);
  writeFileSync(
    join(curlHome, '.curlrc'),
    [
      `connect-to = "::127.0.0.1:${gateway.port}"`,
      `cacert = "${join(curlHome, 'ca.pem')}"`,
      'silent',
      'show-error',
      'max-time = 20',
      'write-out = "\\n%{http_code}"',
    ].join('\n'),
  );
});

afterAll(async () => {
  await gateway?.close();
  await local?.close();
});

/** Runs a documented line in bash with only the variables it names set, as a reader's shell would have them. */
async function shell(command: string, variables: Record<string, string> = {}) {
  const { stdout } = await run('bash', ['-c', command], {
    cwd: curlHome,
    env: {
      PATH: process.env.PATH,
      HOME: curlHome,
      CURL_HOME: curlHome,
      API_ID,
      AWS_REGION: REGION,
      STAGE: 'prod',
      AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
      AWS_SESSION_TOKEN: CREDENTIALS.sessionToken,
      SESSION_ID: sessionId,
      ...variables,
    },
  });
  return stdout;
}

async function curl(line: string, variables: Record<string, string> = {}) {
  const output = await shell(line, variables);
  const status = Number(output.slice(output.lastIndexOf('\n') + 1));
  return { status, body: JSON.parse(output.slice(0, output.lastIndexOf('\n'))) };
}

describe("docs/http-api.md's curl --aws-sigv4 lines, run as written", () => {
  it('are there for each route: a GET with a query string, a DELETE, a POST with a JSON body', () => {
    expect(curlLines).toHaveLength(3);
    expect(curlLines[0]).toMatch(/\/sessions\?[a-z_]+=/);
    expect(curlLines[1]).toMatch(/-X DELETE .*\/sessions\/\$SESSION_ID"$/);
    expect(curlLines[2]).toMatch(/-d '\{.*\}' .*\/sessions\/terminate"$/);
    for (const line of curlLines) {
      expect(line.replace(/\s+/g, ' ')).toContain(
        'curl --aws-sigv4 "aws:amz:$AWS_REGION:execute-api" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" ' +
          '-H "x-amz-security-token: $AWS_SESSION_TOKEN" ',
      );
    }
  });

  it("writes its query string as SigV4's canonical form has it: sorted, percent-encoded (curl 7.x signs it as written)", () => {
    const query = /\?([^"]+)"$/.exec(curlLines[0] ?? '')?.[1] ?? '';
    const canonical = new URLSearchParams(query);
    canonical.sort();
    expect(canonical.toString()).toBe(query);
  });

  it.each(curlLines.map((line) => [line.split(' ').at(-1), line]))(
    '%s: signed as API Gateway checks it, answered 200 by the handler',
    async (_url, line) => {
      const before = gateway.requests.length;
      const { status, body } = await curl(line as string);
      expect({ status, body }).toEqual({ status: 200, body: expect.any(Object) });
      const [request] = gateway.requests.slice(before);
      expect(request?.headers['x-amz-security-token']).toBe(CREDENTIALS.sessionToken);
      expect(request?.headers.host).toBe(HOST);
      expect(request?.headers.authorization).toMatch(/SignedHeaders=[a-z;-]*x-amz-security-token/);
    },
  );

  it('terminated the session the DELETE named, through the real handler', async () => {
    // Run here too: in any order, this test must not lean on the one above having sent it.
    expect((await curl(curlLines[1] ?? '')).status).toBe(200);
    expect(
      local.pam.requests.filter((request) => request.endpoint === 'drop').map((request) => request.path),
    ).toContain(`/iso/session/drop/${sessionId}`);
  });

  it.each([
    [
      'a wrong secret',
      { AWS_SECRET_ACCESS_KEY: `${CREDENTIALS.secretAccessKey.slice(0, -2)}xx` },
      /signature we calculated does not match/,
    ],
    ['another session token', { AWS_SESSION_TOKEN: `${CREDENTIALS.sessionToken}x` }, /security token .* is invalid/],
    ['another region', { AWS_REGION: 'us-east-1' }, /scoped to a valid region/],
  ])('are refused with 403 when signed with %s', async (_what, variables, message) => {
    for (const line of curlLines) {
      // Another region also means another host name: keep connecting to the gateway under it.
      const { status, body } = await curl(
        line.replaceAll('$AWS_REGION.amazonaws.com', `${REGION}.amazonaws.com`),
        variables,
      );
      expect({ status, body }).toEqual({ status: 403, body: { message: expect.stringMatching(message) } });
    }
  });
});

describe("docs/http-api.md's direct invocation and put-events examples", () => {
  it('aws lambda invoke: the payload is a direct invocation drop answers', async () => {
    const invoke = shellCommands().find((line) => line.startsWith('aws lambda invoke '));
    expect(invoke).toContain('--cli-binary-format raw-in-base64-out');
    const payload = JSON.parse(/--payload '([^']+)'/.exec(invoke ?? '')?.[1] ?? '');
    const answer = await drop(payload, lambdaContext());
    expect(answer).toMatchObject({
      session_id: payload.session_id,
      status: expect.stringMatching(/terminated|already_ended/),
    });
  });

  it('aws events put-events: the entry goes to the termination-request bus, matches its rule, and drop acts on it', async () => {
    const heredoc = /cat > termination-request\.json <<EOF\n[\s\S]*?\nEOF\n/.exec(SECTION)?.[0];
    expect(heredoc).toBeDefined();
    expect(SECTION).toContain('aws events put-events --entries file://termination-request.json');
    await shell(heredoc as string);
    const [entry, ...others] = JSON.parse(readFileSync(join(curlHome, 'termination-request.json'), 'utf8'));
    expect(others).toEqual([]);
    expect(entry.EventBusName).toBe('pam-termination-requests-prod');
    const event = {
      version: '0',
      id: randomUUID(),
      'detail-type': entry.DetailType,
      source: entry.Source,
      account: '123456789012',
      time: new Date().toISOString(),
      region: REGION,
      resources: [],
      detail: JSON.parse(entry.Detail),
    };
    const rule = loadRulePatterns({ stage: 'prod' }).find((candidate) => candidate.name === 'termination-requested');
    expect(rule && matchesEventPattern(rule.pattern, event)).toBe(true);
    const report = await drop(event, lambdaContext());
    expect(report.outcomes).toEqual([
      expect.objectContaining({
        session_id: event.detail.session_ids[0],
        outcome: expect.stringMatching(/terminated|already_ended/),
      }),
    ]);
  });
});
