import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { HarnessError } from './errors.ts';
import { findOnPath, type Log, runCommand, stderrLog } from './process.ts';

export const KAFKA_VERSION = '3.9.1';
const MARKER = '.complete.json';

const POM = `<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
<groupId>local</groupId><artifactId>kafka-fetch</artifactId><version>1</version>
<dependencies>
<dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>${KAFKA_VERSION}</version></dependency>
<dependency><groupId>org.slf4j</groupId><artifactId>slf4j-reload4j</artifactId><version>1.7.36</version></dependency>
</dependencies></project>
`;

/** `${XDG_CACHE_HOME:-$HOME/.cache}/iot-stream/kafka-3.9.1`: outside the repo, shared by clones. */
export function kafkaCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const cache = env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache');
  return join(cache, 'iot-stream', `kafka-${KAFKA_VERSION}`);
}

/** Fails with a clear message when `java` is not installed. */
export function requireJava(): string {
  const java = findOnPath('java');
  if (java === undefined) {
    throw new HarnessError(
      'JAVA_MISSING',
      'java not found on PATH: Kafka needs a Java 17+ runtime (sudo apt-get install openjdk-17-jre-headless)',
    );
  }
  return java;
}

/**
 * Makes sure the runtime jars of kafka_2.13 + slf4j-reload4j are in `<cache>/libs` and returns
 * that folder. The jars are fetched with Maven into a temp folder, a marker listing them is
 * written there, and the folder is renamed into place: a half-finished fetch is never used.
 */
export async function ensureKafkaJars(
  log: Log = stderrLog,
  cacheDir = kafkaCacheDir(),
): Promise<string> {
  const libs = join(cacheDir, 'libs');
  if (await isComplete(libs)) return libs;
  requireJava();
  if (findOnPath('mvn') === undefined) {
    throw new HarnessError(
      'MVN_MISSING',
      `Kafka jars are not cached in ${libs} and mvn is not on PATH to fetch them (sudo apt-get install maven)`,
    );
  }
  log(`fetching Kafka ${KAFKA_VERSION} jars into ${libs} ...`);
  const pomDir = join(cacheDir, 'pom');
  await mkdir(pomDir, { recursive: true });
  await writeFile(join(pomDir, 'pom.xml'), POM);
  const tmp = join(cacheDir, `libs.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await runCommand(
      'mvn',
      [
        '-B',
        '-q',
        '-f',
        join(pomDir, 'pom.xml'),
        'org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies',
        `-DoutputDirectory=${tmp}`,
        '-DincludeScope=runtime',
      ],
      { cwd: pomDir, timeoutMs: 600_000 },
    );
    const jars = (await readdir(tmp)).filter((f) => f.endsWith('.jar')).sort();
    if (!jars.some((f) => f.startsWith(`kafka_2.13-${KAFKA_VERSION}`))) {
      throw new Error(`mvn finished but kafka_2.13-${KAFKA_VERSION}.jar is not in ${tmp}`);
    }
    await writeFile(
      join(tmp, MARKER),
      `${JSON.stringify({ version: KAFKA_VERSION, jars }, null, 2)}\n`,
    );
    if (await isComplete(libs)) return libs; // someone else finished first
    await rm(libs, { recursive: true, force: true });
    await rename(tmp, libs);
    log(`fetched ${jars.length} jars`);
    return libs;
  } catch (err) {
    if (await isComplete(libs)) return libs; // lost a rename race to a complete copy
    throw new HarnessError(
      'KAFKA_JARS_FETCH_FAILED',
      `could not fetch the Kafka ${KAFKA_VERSION} jars with Maven: ${(err as Error).message}`,
      { cause: err, retriable: true },
    );
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

async function isComplete(libs: string): Promise<boolean> {
  const marker = join(libs, MARKER);
  if (!existsSync(marker)) return false;
  try {
    const { version, jars } = JSON.parse(await readFile(marker, 'utf8')) as {
      version: string;
      jars: string[];
    };
    return (
      version === KAFKA_VERSION && jars.length > 0 && jars.every((j) => existsSync(join(libs, j)))
    );
  } catch {
    return false;
  }
}
