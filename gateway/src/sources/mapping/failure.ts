import type { QuarantineCode } from '../../errors.ts';

/** Why a mapped message could not become readings: a quarantine code and a reason. */
export interface MappingFailure {
  code: QuarantineCode;
  reason: string;
}
