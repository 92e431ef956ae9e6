import { readFileSync } from 'node:fs';

/**
 * kafkajs 2.2.4 (unmaintained) makes every Encoder's buffer, and every larger one it grows
 * into, with Buffer.alloc: a new zero-filled ArrayBuffer each time, for each request and each
 * record it encodes. An Encoder only ever writes at its offset and hands out the bytes before
 * it (`buffer`: slice(0, offset)), so the zeros are never read: Buffer.allocUnsafe gives the
 * same bytes out, from Node's shared pool for the small ones (no ArrayBuffer each), unfilled
 * for the large (a hub's checkpoint record: tens of MB zeroed, then overwritten). Fails the
 * build when the code it patches changes.
 */
export const kafkajsEncoderAlloc = {
  name: 'kafkajs-encoder-alloc',
  setup(build) {
    build.onLoad({ filter: /kafkajs[\\/]src[\\/]protocol[\\/]encoder\.js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      const from = ['this.buf = Buffer.alloc(', 'const newBuffer = Buffer.alloc('];
      for (const f of from)
        if (source.split(f).length !== 2)
          throw new Error(`${args.path}: \`${f}\` not found once (kafkajs changed)`);
      let contents = source;
      for (const f of from) contents = contents.replace(f, f.replace('alloc(', 'allocUnsafe('));
      return { contents, loader: 'js' };
    });
  },
};
