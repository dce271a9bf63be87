/** The ports `npm start` listens on, each moved by the variable of its name (the README lists them). */
export const DEFAULT_PORTS = {
  PORT: 3000,
  LAMBDA_PORT: 3002,
  PAM_SIMULATOR_PORT: 4010,
  EVENTBRIDGE_PORT: 4011,
  SECURITYHUB_PORT: 4012,
  SCHEDULER_PORT: 4013,
  S3_PORT: 4569,
} as const;

export type PortName = keyof typeof DEFAULT_PORTS;

export const LOCAL_PORTS = Object.fromEntries(
  Object.entries(DEFAULT_PORTS).map(([name, port]) => [name, Number(process.env[name] ?? port)]),
) as Record<PortName, number>;
