/** The gateway's version: status records, the serial hello, `iot-gateway --version`. */
export const GATEWAY_VERSION = '0.1.0';
