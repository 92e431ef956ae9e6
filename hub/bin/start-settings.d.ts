export declare const STARTED: string;
export declare const SEMI_SPACE_MB: number;
export declare const MALLOC_ENV: Readonly<Record<string, string>>;
export declare function startSettings(
  env: Readonly<Record<string, string | undefined>>,
  execArgv: readonly string[],
): { flags: string[]; env: Record<string, string | undefined> } | undefined;
