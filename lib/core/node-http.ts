import { createRequire } from 'node:module';

/**
 * node:http and node:https, loaded with require, not import: on Node 22 an ES import of node:http
 * builds its module facade, which reads every export, and the lazy WebSocket export loads Node's
 * bundled undici: about 8 ms of every cold start (nodejs/node#59686; npm run bench).
 */
const requireBuiltin = createRequire(import.meta.url);
export const http = requireBuiltin('node:http') as typeof import('node:http');
export const https = requireBuiltin('node:https') as typeof import('node:https');
