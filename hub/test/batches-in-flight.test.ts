import { describe, expect, it } from 'vitest';
import { BatchesInFlight } from '../src/kafka-common/batches-in-flight.ts';

/** A batch's work that ends when told to. */
function work(log: string[], name: string) {
  let end: (fail?: boolean) => void = () => undefined;
  const done = new Promise<void>((resolve, reject) => {
    end = (fail) => (fail ? reject(new Error(`${name} failed`)) : resolve());
  });
  return {
    run: async () => {
      log.push(`${name} start`);
      await done;
      log.push(`${name} end`);
    },
    end: (fail?: boolean) => end(fail),
  };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('batches in flight', () => {
  it("a partition's next batch is admitted once its previous one is done, others' at once", async () => {
    const log: string[] = [];
    const inFlight = new BatchesInFlight(1_000);
    const a1 = work(log, 'a1');
    await inFlight.admit(0, 100);
    inFlight.start(0, 100, a1.run);
    let a2Admitted = false;
    void inFlight.admit(0, 100).then(() => {
      a2Admitted = true;
    });
    await inFlight.admit(1, 100); // another partition: not held back
    await tick();
    expect(a2Admitted).toBe(false);
    a1.end(true); // a failed batch is done too (its work logs and retries on its own)
    await tick();
    expect(a2Admitted).toBe(true);
    expect(log).toEqual(['a1 start']);
  });

  it('holds at most maxBytes of batches, one batch always', async () => {
    const log: string[] = [];
    const inFlight = new BatchesInFlight(250);
    const big = work(log, 'big');
    await inFlight.admit(0, 400); // larger than the bound, but nothing runs: admitted
    inFlight.start(0, 400, big.run);
    let next = false;
    void inFlight.admit(1, 10).then(() => {
      next = true;
    });
    await tick();
    expect(next).toBe(false);
    big.end();
    await tick();
    expect(next).toBe(true);
    const b = work(log, 'b');
    const c = work(log, 'c');
    inFlight.start(1, 100, b.run);
    await inFlight.admit(2, 100);
    inFlight.start(2, 100, c.run);
    let third = false;
    void inFlight.admit(3, 100).then(() => {
      third = true;
    });
    await tick();
    expect(third).toBe(false); // 300 > 250
    c.end();
    await tick();
    expect(third).toBe(true);
    b.end();
  });

  it('drain waits for every batch started', async () => {
    const log: string[] = [];
    const inFlight = new BatchesInFlight(1_000);
    const x = work(log, 'x');
    const y = work(log, 'y');
    inFlight.start(0, 1, x.run);
    inFlight.start(1, 1, y.run);
    let drained = false;
    void inFlight.drain().then(() => {
      drained = true;
    });
    x.end();
    await tick();
    expect(drained).toBe(false);
    y.end();
    await tick();
    await tick();
    expect(drained).toBe(true);
    expect(log).toEqual(['x start', 'y start', 'x end', 'y end']);
  });
});
