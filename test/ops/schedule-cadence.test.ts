/** A vendor's cadence is the longest wait between two firings of its schedule expression. */
import { describe, expect, it } from 'vitest';
import { scheduleCadenceHours } from '../../lambdas/ops/schedule-cadence.ts';

describe('scheduleCadenceHours', () => {
  it.each([
    ['cron(30 1 * * ? *)', 24],
    ['cron(0 0,8,16 * * ? *)', 8],
    ['cron(0 2,4 * * ? *)', 22],
    ['cron(0/30 * * * ? *)', 0.5],
    ['cron(0 2 ? * MON-FRI *)', 72],
    ['cron(0 2 ? * 2-6 *)', 72],
    ['cron(0 2 1 * ? *)', 31 * 24],
    ['cron(0 2 31 * ? *)', 61 * 24], // 31 March to 31 May: April has no 31st
    ['cron(0 2 29 * ? *)', 59 * 24], // 29 January to 29 March of a year that is not a leap year
    ['rate(1 day)', 24],
    ['rate(6 hours)', 6],
    ['rate(90 minutes)', 1.5],
  ])('%s: %d hours', (expression, hours) => {
    expect(scheduleCadenceHours(expression)).toBe(hours);
  });

  it('adds an hour in a time zone with daylight saving', () => {
    expect(scheduleCadenceHours('cron(30 1 * * ? *)', 'Europe/London')).toBe(25);
    expect(scheduleCadenceHours('cron(30 1 * * ? *)', 'UTC')).toBe(24);
  });

  it.each([
    ['cron(0 2 L * ? *)', /a field not understood/],
    ['cron(0 2 ? * 6#3 *)', /a field not understood/],
    ['cron(0 2 * * ? 2027)', /a restricted year/],
    ['cron(0 2 * *)', /six cron fields/],
  ])('refuses %s by name', (expression, why) => {
    expect(() => scheduleCadenceHours(expression)).toThrow(`cannot tell how often "${expression}" fires`);
    expect(() => scheduleCadenceHours(expression)).toThrow(why);
  });
});
