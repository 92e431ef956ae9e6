import type { Detector, DetectorKind } from '../../src/detect/detector.ts';
import { DETECTORS } from '../../src/detect/registry.ts';
import { detectorParams } from '../../src/detect/rules.ts';

/** A detector with its default parameters (range gets bounds), plus overrides. */
export function make(kind: DetectorKind, params: Record<string, unknown> = {}): Detector {
  const base = kind === 'range' ? { min: 0, max: 10 } : {};
  const checked = detectorParams(kind, { ...base, ...params });
  if (checked.errors.length > 0) throw new Error(checked.errors.join('; '));
  return DETECTORS[kind].create(checked.params);
}
