/** The hub's version: `iot-hub --version`, the OpenAPI document. */
export const HUB_VERSION = '0.1.0';
