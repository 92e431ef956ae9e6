export declare const STARTED: string;
export declare const SEMI_SPACE_MB: number;
export declare const MALLOC_ENV: Readonly<Record<string, string>>;
export declare function startSettings(
  env: Readonly<Record<string, string | undefined>>,
  execArgv: readonly string[],
  memoryLimit?: number,
): { flags: string[]; env: Record<string, string | undefined> } | undefined;
export declare const HEAP_SHARE_OF_LIMIT: number;
export declare function heapLimitMb(memoryLimit: number): number;
export declare function cgroupLimit(constrained: number, total: number): number | undefined;
