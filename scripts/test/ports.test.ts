import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { StartError } from '../lib/errors.ts';
import {
  choosePorts,
  listenProbe,
  type PortProbe,
  type PortRequest,
  parsePort,
  pickedNote,
} from '../lib/ports.ts';
import { runningBanner, signInUrl } from '../lib/start-banner.ts';

const HUB: PortRequest = {
  option: '--port',
  what: 'the hub',
  host: '127.0.0.1',
  defaultPort: 8080,
};
const HEALTH: PortRequest = {
  option: '--gateway-port',
  what: 'the gateway health endpoint',
  host: '127.0.0.1',
  defaultPort: 8081,
};
const MQTT: PortRequest = {
  option: '--mqtt-port',
  what: 'the MQTT broker',
  host: '0.0.0.0',
  defaultPort: 1883,
};

/** A probe over a fixed set of taken ports (`host:port` → error code), recording its calls. */
function fakeProbe(taken: Record<string, string> = {}) {
  const calls: string[] = [];
  const probe: PortProbe = async (host, port) => {
    calls.push(`${host}:${port}`);
    const code = taken[`${host}:${port}`];
    return code ? { free: false, code } : { free: true };
  };
  return { probe, calls };
}

async function refusal(promise: Promise<unknown>): Promise<StartError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StartError);
  return err as StartError;
}

describe('parsePort', () => {
  it('takes whole numbers 0..65535', () => {
    expect(parsePort('--port', undefined)).toBeUndefined();
    expect(parsePort('--port', '8080')).toBe(8080);
    expect(parsePort('--port', '0')).toBe(0);
    expect(parsePort('--port', '65535')).toBe(65535);
  });

  it.each(['', '65536', '-1', '80a', '1e3', ' 80', '8080.0', '0x50', '123456'])(
    'refuses %j, naming the option',
    (value) => {
      expect(() => parsePort('--mqtt-port', value)).toThrow(
        `--mqtt-port ${JSON.stringify(value)}: expected a port number`,
      );
      try {
        parsePort('--mqtt-port', value);
      } catch (err) {
        expect((err as StartError).code).toBe('START_USAGE');
      }
    },
  );
});

describe('choosePorts', () => {
  it('keeps the defaults when they are free, checking each on the address it binds', async () => {
    const { probe, calls } = fakeProbe();
    const chosen = await choosePorts([HUB, HEALTH, MQTT], probe);
    expect(chosen.map((c) => [c.port, c.picked])).toEqual([
      [8080, false],
      [8081, false],
      [1883, false],
    ]);
    expect(calls.sort()).toEqual(['0.0.0.0:1883', '127.0.0.1:8080', '127.0.0.1:8081']);
  });

  it('leaves a taken default to the kernel (port 0) and marks it picked', async () => {
    const { probe } = fakeProbe({ '127.0.0.1:8080': 'EADDRINUSE', '0.0.0.0:1883': 'EACCES' });
    const [hub, health, mqtt] = await choosePorts([HUB, HEALTH, MQTT], probe);
    expect(hub).toMatchObject({ port: 0, picked: true });
    expect(health).toMatchObject({ port: 8081, picked: false });
    expect(mqtt).toMatchObject({ port: 0, picked: true });
  });

  it('uses a free explicit port', async () => {
    const { probe, calls } = fakeProbe();
    const [hub] = await choosePorts([{ ...HUB, requested: 9000 }], probe);
    expect(hub).toMatchObject({ port: 9000, picked: false });
    expect(calls).toEqual(['127.0.0.1:9000']);
  });

  it('refuses a taken explicit port, naming the option and the port', async () => {
    const { probe } = fakeProbe({ '0.0.0.0:1883': 'EADDRINUSE' });
    const err = await refusal(choosePorts([HUB, { ...MQTT, requested: 1883 }], probe));
    expect(err.code).toBe('START_PORT_TAKEN');
    expect(err.message).toContain('--mqtt-port 1883: port 1883 is already in use');
    expect(err.message).toContain('leave --mqtt-port out');
  });

  it('refuses an explicit port that cannot be listened on for another reason', async () => {
    const { probe } = fakeProbe({ '127.0.0.1:80': 'EACCES' });
    const err = await refusal(choosePorts([{ ...HUB, requested: 80 }], probe));
    expect(err.code).toBe('START_PORT_UNUSABLE');
    expect(err.message).toBe(
      '--port 80: the hub cannot listen on 127.0.0.1:80 (EACCES); choose another port',
    );
  });

  it('passes an explicit 0 through without checking', async () => {
    const { probe, calls } = fakeProbe();
    const [hub] = await choosePorts([{ ...HUB, requested: 0 }], probe);
    expect(hub).toMatchObject({ port: 0, picked: false });
    expect(calls).toEqual([]);
  });

  it('picks another port for a default that an option asks for (--port 8081)', async () => {
    const { probe, calls } = fakeProbe();
    const [hub, health] = await choosePorts([{ ...HUB, requested: 8081 }, HEALTH], probe);
    expect(hub).toMatchObject({ port: 8081, picked: false });
    expect(health).toMatchObject({ port: 0, picked: true });
    expect(calls).toEqual(['127.0.0.1:8081']);
  });

  it('refuses two options asking for one port', async () => {
    const { probe } = fakeProbe();
    const err = await refusal(
      choosePorts(
        [
          { ...HUB, requested: 9000 },
          { ...MQTT, requested: 9000 },
        ],
        probe,
      ),
    );
    expect(err.code).toBe('START_PORT_CONFLICT');
    expect(err.message).toContain('--port and --mqtt-port both ask for port 9000');
  });

  it('says which default was taken and what is used instead', () => {
    expect(pickedNote({ ...HUB, port: 0, picked: true }, 41234)).toBe(
      'port 8080 was taken, so the hub listens on 41234 (--port N to choose one)',
    );
  });
});

describe('listenProbe (real sockets)', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  });

  it('sees a port held on one other address when checking 0.0.0.0', async () => {
    const server = createServer();
    servers.push(server);
    // 127.0.0.2 stands for any address of this machine but 127.0.0.1 (a LAN-only broker).
    await new Promise<void>((r) => server.listen(0, '127.0.0.2', r));
    const port = (server.address() as { port: number }).port;
    expect(await listenProbe('0.0.0.0', port)).toEqual({ free: false, code: 'EADDRINUSE' });
    expect(await listenProbe('127.0.0.1', port)).toEqual({ free: true });
  });

  it('sees a port held on 0.0.0.0 when checking 127.0.0.1, and frees what it checked', async () => {
    const server = createServer();
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '0.0.0.0', r));
    const port = (server.address() as { port: number }).port;
    expect(await listenProbe('127.0.0.1', port)).toEqual({ free: false, code: 'EADDRINUSE' });
    await new Promise((r) => server.close(r));
    servers.pop();
    expect(await listenProbe('127.0.0.1', port)).toEqual({ free: true });
    expect(await listenProbe('127.0.0.1', port)).toEqual({ free: true });
  });
});

describe('runningBanner', () => {
  const system = {
    hubUrl: 'http://127.0.0.1:41234',
    token: '3f9c',
    gatewayHealthUrl: 'http://127.0.0.1:8081/health',
    mqttPort: 1883,
    hubDataDir: '/d/hub',
    logs: '/d/logs',
  };

  it('prints a dashboard link that signs in, with the token in the fragment', () => {
    expect(signInUrl('http://127.0.0.1:8080', 'a b')).toBe(
      'http://127.0.0.1:8080/dashboard/#token=a%20b',
    );
    const text = runningBanner({ ...system, notes: [] });
    expect(text).toContain('Dashboard         http://127.0.0.1:41234/dashboard/#token=3f9c');
    expect(text).toContain("curl -H 'Authorization: Bearer 3f9c' 'http://127.0.0.1:41234/api/");
    expect(text).toContain('mqtt://127.0.0.1:1883 ');
    expect(text).not.toContain('Note');
  });

  it('lists the ports that were taken', () => {
    const text = runningBanner({ ...system, notes: ['port 8080 was taken, so ...'] });
    expect(text).toContain('  Note              port 8080 was taken, so ...\nPress Ctrl-C');
  });
});
