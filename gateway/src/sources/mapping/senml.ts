import { Code } from '../../errors.ts';
import type { MappingFailure } from './failure.ts';
import { numberOf } from './values.ts';

/**
 * SenML JSON (RFC 8428): a pack (an array of records) resolved as section 4.6 says. Base
 * fields (bn, bt, bu, bv, bs) apply to their record and every later one until replaced
 * [RFC8428 4.1]; the name is bn + n, the time bt + t, the unit u or else bu, the value bv + v
 * (or the sum bs + s) [4.5.1-4.5.3]. Times are seconds; one below 2^28 is relative to the
 * moment the gateway received the pack [4.5.3]. Pure: no I/O, the receive time passed in.
 */

export interface SenmlRecord {
  /** The resolved name (bn + n). */
  name: string;
  unit?: string;
  value: number;
  /** Epoch ms. */
  time: number;
}

/** SenML version this reads [RFC8428 4.4]; a pack of a higher version is refused. */
export const SENML_VERSION = 10;
/** Times below this are relative to now [RFC8428 4.5.3]. */
const RELATIVE_BELOW = 2 ** 28;
/** Name characters [RFC8428 4.5.1]. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9\-:./_]*$/;

const invalid = (reason: string): MappingFailure => ({ code: Code.SENML_INVALID, reason });

type Field = 'string' | 'number' | 'boolean';
const TYPES: Readonly<Record<string, Field>> = {
  bn: 'string',
  bu: 'string',
  n: 'string',
  u: 'string',
  vs: 'string',
  vd: 'string',
  bt: 'number',
  bv: 'number',
  bs: 'number',
  bver: 'number',
  v: 'number',
  s: 'number',
  t: 'number',
  ut: 'number',
  vb: 'boolean',
};

/** Resolves a parsed SenML JSON pack; never throws. */
export function resolveSenml(
  pack: unknown,
  receivedAt: number,
): { ok: true; records: SenmlRecord[] } | ({ ok: false } & MappingFailure) {
  if (!Array.isArray(pack) || pack.length === 0)
    return { ok: false, ...invalid('a SenML pack is a non-empty JSON array of records') };
  const base = { bn: '', bt: 0, bu: undefined as string | undefined, bv: 0, bs: 0 };
  const records: SenmlRecord[] = [];
  for (const [i, record] of pack.entries()) {
    const at = `record ${i}`;
    if (typeof record !== 'object' || record === null || Array.isArray(record))
      return { ok: false, ...invalid(`${at}: not an object`) };
    const r = record as Record<string, unknown>;
    for (const [label, value] of Object.entries(r)) {
      // Labels ending in _ must be understood [RFC8428 4.4]; others unknown are ignored.
      if (TYPES[label] === undefined && label.endsWith('_'))
        return { ok: false, ...invalid(`${at}: must-understand field ${label} is not supported`) };
      const type = TYPES[label];
      if (type !== undefined && typeof value !== type)
        return { ok: false, ...invalid(`${at}.${label}: expected a ${type}`) };
    }
    if (typeof r.bver === 'number' && r.bver > SENML_VERSION)
      return {
        ok: false,
        ...invalid(`${at}: version ${r.bver}, this gateway reads ${SENML_VERSION}`),
      };
    if (r.bn !== undefined) base.bn = r.bn as string;
    if (r.bt !== undefined) base.bt = r.bt as number;
    if (r.bu !== undefined) base.bu = r.bu as string;
    if (r.bv !== undefined) base.bv = r.bv as number;
    if (r.bs !== undefined) base.bs = r.bs as number;
    const name = base.bn + ((r.n as string | undefined) ?? '');
    if (!NAME.test(name))
      return { ok: false, ...invalid(`${at}: name ${JSON.stringify(name)} is not a SenML name`) };
    const value = numberIn(r, base);
    if (typeof value !== 'number')
      return { ok: false, code: value.code, reason: `${at} (${name}): ${value.reason}` };
    const seconds = base.bt + ((r.t as number | undefined) ?? 0);
    const time = seconds < RELATIVE_BELOW ? receivedAt + seconds * 1000 : seconds * 1000;
    const unit = (r.u as string | undefined) ?? base.bu;
    records.push({ name, value, time: Math.round(time), ...(unit ? { unit } : {}) });
  }
  return { ok: true, records };
}

/** The record's number: bv + v, vb as 1/0, vs as a number (numberOf), else bs + s. */
function numberIn(
  r: Record<string, unknown>,
  base: { bv: number; bs: number },
): number | MappingFailure {
  if (r.v !== undefined) return base.bv + (r.v as number);
  if (r.vb !== undefined) return r.vb ? 1 : 0;
  if (r.vs !== undefined) {
    const n = numberOf(r.vs);
    return (
      n ?? { code: Code.MAPPING_NOT_A_NUMBER, reason: `vs ${JSON.stringify(r.vs)} is not a number` }
    );
  }
  if (r.vd !== undefined)
    return { code: Code.MAPPING_NOT_A_NUMBER, reason: 'vd (data) is not a number' };
  if (r.s !== undefined) return base.bs + (r.s as number);
  return invalid('no value (v, vb, vs, vd) and no sum (s)');
}
