// What `npm start` prints once everything runs: where to look, with the ports actually bound.

export interface RunningSystem {
  /** The hub as it reported itself: `http://127.0.0.1:8080`. */
  hubUrl: string;
  token: string;
  /** The gateway's health endpoint: `http://127.0.0.1:8081/health`. */
  gatewayHealthUrl: string;
  mqttPort: number;
  brokers?: string | undefined;
  influxUrl?: string | undefined;
  hubDataDir: string;
  logs: string;
  /** One line per default port that was taken and replaced. */
  notes: readonly string[];
}

/** The dashboard, signed in: the token in the fragment never reaches the server or its logs. */
export function signInUrl(hubUrl: string, token: string): string {
  return `${hubUrl}/dashboard/#token=${encodeURIComponent(token)}`;
}

/** The REST query the banner shows with curl (and `npm start` polls). */
export function exampleReadingsUrl(hubUrl: string): string {
  return `${hubUrl}/api/devices/sim-001/readings`;
}

export function runningBanner(s: RunningSystem): string {
  const notes = s.notes.map((n) => `  Note              ${n}\n`).join('');
  return `
iot-stream is running.
  Dashboard         ${signInUrl(s.hubUrl, s.token)}   (opens signed in)
  API token         ${s.token}
  Hub REST API      ${s.hubUrl}/api/health   (OpenAPI: ${s.hubUrl}/docs)
  Readings          curl -H 'Authorization: Bearer ${s.token}' '${exampleReadingsUrl(s.hubUrl)}'
  Gateway health    ${s.gatewayHealthUrl}
  MQTT (devices)    mqtt://127.0.0.1:${s.mqttPort}   topic iot/v1/<deviceId>/data
  Kafka             ${s.brokers ?? 'none (single-box: the gateway POSTs to the hub)'}
  InfluxDB          ${s.influxUrl ? `${s.influxUrl}   database iot` : `none (SQLite in ${s.hubDataDir})`}
  Logs              ${s.logs}
${notes}Press Ctrl-C to stop.
`;
}
