/** dynalite ships no types: it returns an http.Server that speaks DynamoDB's protocol. */
declare module 'dynalite' {
  import type { Server } from 'node:http';
  export default function dynalite(options?: { createTableMs?: number; path?: string }): Server;
}
