import { createHmac, randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { now } from './clock.js';

/**
 * The floor: the least any implementation must do to cut a session. A fresh process reads the
 * secret with the Secrets Manager client and sends one signed DELETE with node:http (`cold`), or
 * keeps its connection and sends BENCH_SESSION_IDS one after another (`warm`), or one every
 * BENCH_PACE_MS. Prints one JSON
 * line with when each DELETE was sent and answered (epoch ms, comparable with the simulator's).
 */
const encode = (value: string) =>
  encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

const secret = JSON.parse(
  (await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: process.env.PAM_SECRET_ID })))
    .SecretString ?? '{}',
) as { base_url: string; consumer_key: string; consumer_secret: string; token_key: string; token_secret: string };

/** RFC 5849 HMAC-SHA1, by hand: nothing but node:crypto. */
function authorization(method: string, url: string): string {
  const oauth: Record<string, string> = {
    oauth_consumer_key: secret.consumer_key,
    oauth_nonce: randomBytes(16).toString('hex'),
    oauth_signature_method: 'HMAC-SHA1',
    oauth_timestamp: String(Math.floor(Date.now() / 1000)),
    oauth_token: secret.token_key,
    oauth_version: '1.0',
  };
  const parameters = Object.keys(oauth)
    .sort()
    .map((key) => `${encode(key)}=${encode(oauth[key] ?? '')}`)
    .join('&');
  const base = [method, encode(url), encode(parameters)].join('&');
  const key = `${encode(secret.consumer_secret)}&${encode(secret.token_secret)}`;
  oauth.oauth_signature = createHmac('sha1', key).update(base).digest('base64');
  return `OAuth ${Object.entries(oauth)
    .map(([name, value]) => `${encode(name)}="${encode(value)}"`)
    .join(', ')}`;
}

const agent = new Agent({ keepAlive: true });
function drop(sessionId: string): Promise<{ sentAt: number; answeredAt: number; status: number }> {
  const url = `${secret.base_url}/iso/session/drop/${sessionId}`;
  const sentAt = now();
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'DELETE', agent, headers: { authorization: authorization('DELETE', url) } },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ sentAt, answeredAt: now(), status: res.statusCode ?? 0 }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const ids = (process.env.BENCH_SESSION_IDS ?? '').split(',');
const pace = Number(process.env.BENCH_PACE_MS ?? 0);
const drops = [];
for (const id of ids) {
  const sent = await drop(id);
  drops.push({ id, ...sent });
  if (pace > 0) await new Promise((resolve) => setTimeout(resolve, Math.max(0, sent.sentAt + pace - now())));
}
agent.destroy();
console.log(JSON.stringify({ drops }));
