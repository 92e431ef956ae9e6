import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { objectKeys, schemaKeys } from '@iot-stream/contracts';
import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { GatewayConfigSchema, loadGatewayConfig } from '../src/config.ts';
import { authConcurrency } from '../src/sources/registry.ts';

describe('gateway configuration', () => {
  it('config.example.yaml is valid and equals the defaults', () => {
    const fromFile = loadGatewayConfig({
      file: join(import.meta.dirname, '..', 'config.example.yaml'),
    });
    expect(fromFile).toEqual(Value.Default(GatewayConfigSchema, {}));
  });

  it('config.example.yaml documents every key', () => {
    const text = readFileSync(join(import.meta.dirname, '..', 'config.example.yaml'), 'utf8');
    // Commented-out keys count as documented.
    const doc = parse(text.replace(/^(\s*)# (\w+:)/gm, '$1$2'));
    expect(objectKeys(doc).sort()).toEqual(schemaKeys(GatewayConfigSchema).sort());
  });

  it('takes connection settings from the environment', () => {
    const c = loadGatewayConfig({
      env: { KAFKA_BROKERS: 'k1:9092,k2:9092', MQTT_PORT: '1999', GATEWAY_ID: 'pi-7' },
    });
    expect(c.kafka.brokers).toEqual(['k1:9092', 'k2:9092']);
    expect(c.mqtt.port).toBe(1999);
    expect(c.gatewayId).toBe('pi-7');
  });

  it('names the key of a bad value', () => {
    expect(() => loadGatewayConfig({ env: { MQTT_PORT: '70000' } })).toThrow(/mqtt\.port/);
    expect(() => loadGatewayConfig({ overrides: { 'outbox.synchronous': 'OFF' } })).toThrow(
      /outbox\.synchronous/,
    );
  });

  it('refuses a configuration without any input, and accepts serial-only', () => {
    expect(() => loadGatewayConfig({ overrides: { 'mqtt.embedded': false } })).toThrow(/no input/);
    const c = loadGatewayConfig({
      overrides: { 'mqtt.embedded': false, 'serial.ports': [{ path: '/dev/ttyUSB0' }] },
    });
    expect(c.serial.ports).toEqual([{ path: '/dev/ttyUSB0', baudRate: 115_200 }]);
  });
});

describe('mqtt.authConcurrency', () => {
  it('auto leaves the event loop a core: one less than the machine has, 1 to 2', () => {
    expect(authConcurrency('auto', 1)).toBe(1);
    expect(authConcurrency('auto', 2)).toBe(1);
    expect(authConcurrency('auto', 4)).toBe(2);
    expect(authConcurrency(3, 2)).toBe(3);
    expect(loadGatewayConfig({}).mqtt.authConcurrency).toBe('auto');
  });
});
