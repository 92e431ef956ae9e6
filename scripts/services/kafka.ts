import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage, HarnessError } from './errors.ts';
import { freePorts } from './free-ports.ts';
import {
  jvmOptions,
  type KafkaNodeSpec,
  LOG4J_PROPERTIES,
  newClusterId,
  serverProperties,
} from './kafka-config.ts';
import { ensureKafkaJars, requireJava } from './kafka-jars.ts';
import { describeBrokers } from './kafka-probe.ts';
import {
  type Log,
  pollUntil,
  runCommand,
  type ServerProcess,
  spawnServer,
  stderrLog,
} from './process.ts';

export { ensureKafkaJars, kafkaCacheDir } from './kafka-jars.ts';

export interface StartKafkaOptions {
  nodes?: 1 | 3;
  /** Parent folder; each node gets `<dir>/kafka-<id>/` (config, data, kafka.log). */
  dir: string;
  log?: Log;
  /** Servers outlive this process (CLI `up`). Default false: they die with it. */
  detached?: boolean;
  /** Also open a SASL_PLAINTEXT listener with this SCRAM-SHA-512 user (security tests). */
  scram?: { username: string; password: string } | undefined;
  /** Overall readiness timeout for a start or restart. Default 90 s. */
  readyTimeoutMs?: number;
}

export interface KafkaNodeInfo {
  /** Kafka node.id (index + 1). */
  id: number;
  port: number;
  controllerPort: number;
  dir: string;
  logFile: string;
  /** undefined while the node is stopped. */
  pid: number | undefined;
}

export interface KafkaCluster {
  /** PLAINTEXT `127.0.0.1:port` of each node, by index. */
  readonly brokers: string[];
  /** SASL_PLAINTEXT (SCRAM-SHA-512) addresses, when started with `scram`; else empty. */
  readonly saslBrokers: string[];
  nodes(): KafkaNodeInfo[];
  /** Stops node `index` (0-based): SIGTERM waits for a clean shutdown, SIGKILL does not. */
  stopNode(index: number, signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Restarts a stopped node with the same config and data; resolves once it is registered. */
  startNode(index: number): Promise<void>;
  /** Stops every node. */
  stop(): Promise<void>;
}

interface NodeState extends KafkaNodeSpec {
  dir: string;
  logFile: string;
  propsFile: string;
  process: ServerProcess | undefined;
}

/** Starts a KRaft cluster of combined broker+controller nodes and waits until all are registered. */
export async function startKafka(options: StartKafkaOptions): Promise<KafkaCluster> {
  const log = options.log ?? stderrLog;
  const count = options.nodes ?? 1;
  const readyTimeoutMs = options.readyTimeoutMs ?? 90_000;
  const libs = await ensureKafkaJars(log);
  const java = requireJava();
  const classpath = join(libs, '*');
  const log4j = join(options.dir, 'kafka-log4j.properties');
  const jvm = [...jvmOptions(count), `-Dlog4j.configuration=file:${log4j}`, '-cp', classpath];

  const perNode = options.scram ? 3 : 2;
  const ports = await freePorts(count * perNode);
  const nodes: NodeState[] = Array.from({ length: count }, (_, i) => {
    const dir = join(options.dir, `kafka-${i + 1}`);
    return {
      id: i + 1,
      port: ports[i * perNode]!,
      controllerPort: ports[i * perNode + 1]!,
      saslPort: options.scram ? ports[i * perNode + 2] : undefined,
      dataDir: join(dir, 'data'),
      dir,
      logFile: join(dir, 'kafka.log'),
      propsFile: join(dir, 'server.properties'),
      process: undefined,
    };
  });
  const brokers = nodes.map((n) => `127.0.0.1:${n.port}`);
  const saslBrokers = options.scram ? nodes.map((n) => `127.0.0.1:${n.saslPort}`) : [];

  await mkdir(options.dir, { recursive: true });
  await writeFile(log4j, LOG4J_PROPERTIES);
  const clusterId = newClusterId(randomBytes);
  await Promise.all(
    nodes.map(async (node) => {
      await mkdir(node.dataDir, { recursive: true });
      await writeFile(node.propsFile, serverProperties(node, nodes));
      await formatStorage(java, jvm, clusterId, node, options.scram);
    }),
  );

  const spawnNode = async (node: NodeState) => {
    node.process = await spawnServer({
      name: `kafka-${node.id}`,
      command: java,
      args: [...jvm, 'kafka.Kafka', node.propsFile],
      cwd: node.dir,
      logFile: node.logFile,
      detached: options.detached ?? false,
    });
  };

  /**
   * Polls until each node in `ids` answers describeCluster itself and lists all of `ids` as
   * registered (asking the node directly: a just-killed node is still listed by the others
   * until it is fenced). Fails fast if a node exits.
   */
  const waitRegistered = async (ids: number[]) => {
    const allRegistered = async (id: number) => {
      const registered = await describeBrokers([`127.0.0.1:${nodes[id - 1]!.port}`], 3_000);
      return ids.every((other) => registered.includes(other));
    };
    await pollUntil({
      probe: async () =>
        (await Promise.all(ids.map(allRegistered))).every(Boolean) ? true : undefined,
      timeoutMs: readyTimeoutMs,
      intervalMs: 300,
      check: () => {
        for (const node of nodes) {
          if (ids.includes(node.id) && node.process && !node.process.running()) {
            throw new HarnessError('SERVER_EXITED', `kafka-${node.id} exited during start-up`, {
              logFile: node.logFile,
            });
          }
        }
      },
      timeoutError: (last) =>
        new HarnessError(
          'KAFKA_NOT_READY',
          `Kafka node${ids.length > 1 ? 's' : ''} ${ids.join(',')} not registered after ${readyTimeoutMs} ms` +
            (last === undefined ? '' : ` (last probe: ${errorMessage(last)})`),
          { logFile: nodes.find((n) => ids.includes(n.id))?.logFile, retriable: true },
        ),
    });
  };

  const stopAll = () => Promise.all(nodes.map((n) => n.process?.stop('SIGTERM', 20_000)));

  const nodeAt = (index: number): NodeState => {
    const node = nodes[index];
    if (node === undefined) {
      throw new HarnessError(
        'KAFKA_NODE_INDEX_INVALID',
        `no Kafka node at index ${index} (0..${count - 1})`,
      );
    }
    return node;
  };

  const started = Date.now();
  log(`starting Kafka (${count} node${count > 1 ? 's' : ''}) ...`);
  try {
    for (const node of nodes) await spawnNode(node);
    await waitRegistered(nodes.map((n) => n.id));
  } catch (err) {
    await Promise.all(nodes.map((n) => n.process?.stop('SIGKILL')));
    throw err;
  }
  log(`Kafka ready in ${((Date.now() - started) / 1000).toFixed(1)}s: ${brokers.join(',')}`);

  return {
    brokers,
    saslBrokers,
    nodes: () =>
      nodes.map((n) => ({
        id: n.id,
        port: n.port,
        controllerPort: n.controllerPort,
        dir: n.dir,
        logFile: n.logFile,
        pid: n.process?.running() ? n.process.pid : undefined,
      })),
    async stopNode(index, signal = 'SIGTERM') {
      await nodeAt(index).process?.stop(signal);
    },
    async startNode(index) {
      const node = nodeAt(index);
      if (node.process?.running()) return;
      await spawnNode(node);
      await waitRegistered([node.id]);
    },
    async stop() {
      await stopAll();
    },
  };
}

/** `kafka.tools.StorageTool format`: writes meta.properties and the bootstrap metadata. */
async function formatStorage(
  java: string,
  jvm: string[],
  clusterId: string,
  node: NodeState,
  scram?: { username: string; password: string },
) {
  const args = [...jvm, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', node.propsFile];
  // KRaft creates SCRAM users at format time (KIP-900).
  if (scram)
    args.push('--add-scram', `SCRAM-SHA-512=[name=${scram.username},password=${scram.password}]`);
  try {
    await runCommand(java, args, { cwd: node.dir, timeoutMs: 120_000 });
  } catch (err) {
    const message = `kafka-${node.id}: storage format failed: ${errorMessage(err)}`;
    throw new HarnessError('KAFKA_FORMAT_FAILED', message, { cause: err });
  }
}
