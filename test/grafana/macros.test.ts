// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Grafana's ${var} syntax, not a template
import { describe, expect, it } from 'vitest';
import {
  ALL,
  durationToMs,
  escapeRegex,
  formatInterval,
  interpolate,
  intervalMsFor,
  replaceMacros,
  replaceVariables,
  roundInterval,
  type TemplateVariable,
  unresolved,
} from './macros.ts';

// The substitutions the dashboard tests rely on, checked against what Grafana produces for the
// same input (values from Grafana's own tests and its InfluxDB backend's `Build`).

const range = { from: 1_700_000_000_000, to: 1_700_003_600_000 };
const vars = (...list: TemplateVariable[]) => new Map(list.map((v) => [v.name, v]));
const variable = (v: Partial<TemplateVariable> & { name: string }): TemplateVariable => ({
  current: [],
  options: [],
  multi: false,
  includeAll: false,
  ...v,
});

describe('Grafana interval', () => {
  it('rounds (to - from) / maxDataPoints like rangeutil.roundInterval', () => {
    expect(roundInterval(9)).toBe(10);
    expect(roundInterval(3600)).toBe(5000);
    expect(roundInterval(21_600)).toBe(20_000);
    expect(roundInterval(1_000_000)).toBe(900_000);
    expect(roundInterval(4e10)).toBe(31_536_000_000);
    // 1 h over 1000 points: 3.6 s -> 5 s; 6 h: 21.6 s -> 20 s
    expect(intervalMsFor(range, 1000)).toBe(5000);
    expect(intervalMsFor({ from: 0, to: 6 * 3_600_000 }, 1000)).toBe(20_000);
  });

  it('never goes below the panel minimum interval', () => {
    expect(intervalMsFor(range, 1000, '1m')).toBe(60_000);
    expect(intervalMsFor(range, 1000, '>10s')).toBe(10_000);
    expect(intervalMsFor(range, 10, '10s')).toBe(300_000);
    expect(durationToMs('500ms')).toBe(500);
    expect(() => durationToMs('ten seconds')).toThrow(/not a Grafana interval/);
  });

  it('formats like gtime.FormatInterval (the largest whole unit)', () => {
    expect(formatInterval(500)).toBe('500ms');
    expect(formatInterval(20_000)).toBe('20s');
    expect(formatInterval(90_000)).toBe('1m');
    expect(formatInterval(7_200_000)).toBe('2h');
    expect(formatInterval(86_400_000)).toBe('1d');
    expect(formatInterval(0)).toBe('1ms');
  });
});

describe('backend macros', () => {
  it('$timeFilter, $__interval, $interval and $__interval_ms', () => {
    const q =
      'SELECT mean("value") FROM "m" WHERE $timeFilter GROUP BY time($__interval), time($interval) LIMIT $__interval_ms';
    expect(replaceMacros(q, range, 20_000)).toBe(
      `SELECT mean("value") FROM "m" WHERE time >= ${range.from}ms and time <= ${range.to}ms GROUP BY time(20s), time(20s) LIMIT 20000`,
    );
  });
});

describe('template variables (format regex, as the InfluxDB data source uses)', () => {
  const site = variable({ name: 'site', current: ['plant.a'], options: ['plant.a', 'b'] });

  it('regex-escapes a single value, in every syntax', () => {
    expect(escapeRegex('a.b/c(d)$')).toBe('a\\.b\\/c\\(d\\)\\$');
    const v = vars(site);
    expect(replaceVariables('/^$site$/', v, range)).toBe('/^plant\\.a$/');
    expect(replaceVariables('/^${site}$/', v, range)).toBe('/^plant\\.a$/');
    expect(replaceVariables('/^[[site]]$/', v, range)).toBe('/^plant\\.a$/');
    expect(replaceVariables("'${site:raw}'", v, range)).toBe("'plant.a'");
  });

  it('joins several values as (a|b)', () => {
    const device = variable({ name: 'device', current: ['d-1', 'd.2'], multi: true });
    expect(replaceVariables('/^$device$/', vars(device), range)).toBe('/^(d-1|d\\.2)$/');
  });

  it('"All" is every option, or the custom all value inserted as it is', () => {
    const metric = variable({
      name: 'metric',
      current: [ALL],
      options: ['temperature', 'humidity'],
      multi: true,
      includeAll: true,
    });
    expect(replaceVariables('/^$metric$/', vars(metric), range)).toBe('/^(temperature|humidity)$/');
    const any = { ...metric, allValue: '.*' };
    expect(replaceVariables('/^$metric$/', vars(any), range)).toBe('/^.*$/');
  });

  it('$__from and $__to are epoch milliseconds', () => {
    expect(replaceVariables('time >= ${__from}ms AND time <= $__to', new Map(), range)).toBe(
      `time >= ${range.from}ms AND time <= ${range.to}`,
    );
  });

  it('refuses what Grafana could not produce', () => {
    const single = variable({ name: 'x', current: ['a', 'b'] });
    expect(() => replaceVariables('$x', vars(single), range)).toThrow(/not multi-value/);
    const none = variable({ name: 'x' });
    expect(() => replaceVariables('$x', vars(none), range)).toThrow(/no value/);
    const all = variable({ name: 'x', current: [ALL] });
    expect(() => replaceVariables('$x', vars(all), range)).toThrow(/includeAll/);
    expect(() => replaceVariables('${site:percentencode}', vars(site), range)).toThrow(/format/);
  });
});

describe('interpolate', () => {
  it('runs both stages and fails loudly on what is left', () => {
    const ctx = {
      range,
      intervalMs: 60_000,
      variables: vars(variable({ name: 'site', current: ['a'] })),
    };
    expect(
      interpolate(
        'SELECT 1 FROM m WHERE "site" =~ /^$site$/ AND $timeFilter GROUP BY time($__interval)',
        ctx,
      ),
    ).toBe(
      `SELECT 1 FROM m WHERE "site" =~ /^a$/ AND time >= ${range.from}ms and time <= ${range.to}ms GROUP BY time(1m)`,
    );
    expect(() => interpolate('WHERE "device" =~ /^$device$/', ctx)).toThrow(/unresolved \$device/);
    expect(unresolved('/^plant\\$x$/')).toEqual([]);
  });
});
