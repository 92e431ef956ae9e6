// What test/harness/global-setup.ts hands to the integration tests: `inject('kafkaBrokers')`.
export {};

declare module 'vitest' {
  export interface ProvidedContext {
    /** PLAINTEXT bootstrap addresses, `127.0.0.1:<port>`. */
    kafkaBrokers: string[];
    /** `http://127.0.0.1:<port>` of an InfluxDB 1.x server. */
    influxUrl: string;
  }
}
