export interface JsonResult {
  statusCode: number;
  body: any;
}

/** Reads a handler's HTTP answer back as status and parsed JSON. */
export function asJson(result: unknown): JsonResult {
  const response = result as { statusCode: number; body: string; headers?: Record<string, string> };
  return { statusCode: response.statusCode, body: JSON.parse(response.body) };
}
