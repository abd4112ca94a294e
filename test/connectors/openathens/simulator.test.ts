import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AUTH_ERROR_CONTENT_TYPE,
  DEFAULT_ORGANISATIONS,
  type OpenAthensSimulator,
  type OpenAthensSimulatorOptions,
  startOpenAthensSimulator,
  TASK_CONTENT_TYPE,
} from '../../../simulators/openathens/server.ts';

const NOW = new Date('2024-03-02T00:00:00.000Z');
const KEY = DEFAULT_ORGANISATIONS[0]?.apiKey as string;
const running: OpenAthensSimulator[] = [];

async function simulator(options: OpenAthensSimulatorOptions = {}): Promise<OpenAthensSimulator> {
  const sim = await startOpenAthensSimulator({ now: () => NOW, rowsPerReport: 10, ...options });
  running.push(sim);
  return sim;
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

function get(url: string, key: string | null = KEY): Promise<Response> {
  return fetch(url, { headers: key === null ? {} : { authorization: `OAApiKey ${key}` } });
}

describe('OpenAthens simulator', () => {
  describe('the 30-day window, on its own clock', () => {
    it.each([
      ['yesterday', '2024-03-01', 200],
      ['30 days ago', '2024-02-01', 200],
      ['31 days ago', '2024-01-31', 400],
      ['today', '2024-03-02', 400],
      ['not a date', '2024-02-30', 400],
      ['another layout', '01/02/2024', 400],
    ])('answers %s with %s', async (_label, date, status) => {
      // Prepare
      const sim = await simulator();
      // Act
      const response = await get(`${sim.baseUrl}/example.org/rawreport?date=${encodeURIComponent(date)}`);
      const body = (await response.json()) as { message?: string; status?: string };
      // Assess
      expect(response.status).toBe(status);
      if (status === 400) expect(body.message).toContain(date);
      else expect(response.headers.get('content-type')).toBe(TASK_CONTENT_TYPE);
    });

    it('takes its window length from windowDays', async () => {
      const sim = await simulator({ windowDays: 7 });
      expect((await get(`${sim.baseUrl}/example.org/rawreport?date=2024-02-24`)).status).toBe(200);
      const refused = await get(`${sim.baseUrl}/example.org/rawreport?date=2024-02-23`);
      expect(refused.status).toBe(400);
      expect(await refused.text()).toContain('from 2024-02-24 to 2024-03-01');
    });
  });

  describe('authentication', () => {
    it('answers a missing or unknown key with the documented 401 body', async () => {
      const sim = await simulator();
      for (const key of [null, 'nope']) {
        const response = await get(`${sim.baseUrl}/example.org/rawreport?date=2024-03-01`, key);
        expect(response.status).toBe(401);
        expect(response.headers.get('content-type')).toBe(AUTH_ERROR_CONTENT_TYPE);
        expect(await response.json()).toMatchObject({ reason: 'badCredentials' });
      }
      expect(sim.requests.every((r) => !JSON.stringify(r).includes('nope'))).toBe(true);
    });

    it('records the key as redacted', async () => {
      const sim = await simulator();
      await get(`${sim.baseUrl}/example.org/rawreport?date=2024-03-01`);
      expect(sim.requests[0]?.headers.authorization).toBe('OAApiKey [redacted]');
      expect(JSON.stringify(sim.requests)).not.toContain(KEY);
    });
  });

  describe('tasks and downloads', () => {
    it('serves the report only once the task is FINISHED, and 404 for an unknown task', async () => {
      // Prepare
      const sim = await simulator({ task: { runningPolls: 2 } });
      const started = (await (await get(`${sim.baseUrl}/example.org/rawreport?date=2024-03-01`)).json()) as {
        id: string;
        status: string;
      };
      // Act
      const early = await get(`${sim.baseUrl}/example.org/rawreport/${started.id}`);
      const first = (await (await get(`${sim.baseUrl}/example.org/rawtask/${started.id}`)).json()) as {
        status: string;
      };
      const second = (await (await get(`${sim.baseUrl}/example.org/rawtask/${started.id}`)).json()) as {
        status: string;
      };
      const unknown = await get(`${sim.baseUrl}/example.org/rawtask/00000000-0000-0000-0000-000000000000`);
      const file = await get(`${sim.baseUrl}/example.org/rawreport/${started.id}`);
      // Assess
      expect([started.status, first.status, second.status]).toEqual(['RUNNING', 'RUNNING', 'FINISHED']);
      expect(early.status).toBe(409);
      expect(unknown.status).toBe(404);
      expect(file.status).toBe(200);
      expect(gunzipSync(Buffer.from(await file.arrayBuffer())).toString('utf8')).toBe(
        sim.csv('example.org', '2024-03-01'),
      );
    });

    it('does not let a key read another organisation (403)', async () => {
      const sim = await simulator();
      const response = await get(`${sim.baseUrl}/medicine.example.org/rawreport?date=2024-03-01`);
      expect(response.status).toBe(403);
    });

    it('truncates only the first N downloads of an organisation when truncate is a number', async () => {
      // Prepare
      const sim = await simulator({ task: { runningPolls: 0 }, download: { format: 'plain', truncate: 1 } });
      const task = (await (await get(`${sim.baseUrl}/example.org/rawreport?date=2024-03-01`)).json()) as { id: string };
      const url = `${sim.baseUrl}/example.org/rawreport/${task.id}`;
      // Act
      const first = await get(url)
        .then((r) => r.text())
        .catch((e: unknown) => e);
      // bytes, not text(): text() would drop the BOM
      const second = Buffer.from(await (await get(url)).arrayBuffer()).toString('utf8');
      // Assess
      expect(first).toBeInstanceOf(Error);
      expect(second).toBe(sim.csv('example.org', '2024-03-01'));
    });

    it('generates the same rows for the same seed, organisation and date, and others for another seed', async () => {
      const a = await simulator({ seed: 1 });
      const b = await simulator({ seed: 1 });
      const c = await simulator({ seed: 2 });
      expect(a.csv('example.org', '2024-03-01')).toBe(b.csv('example.org', '2024-03-01'));
      expect(a.csv('example.org', '2024-03-01')).not.toBe(c.csv('example.org', '2024-03-01'));
      expect(a.report('example.org', '2024-03-01').rows).toHaveLength(10);
    });

    it('makes 50 to 500 rows per report by default', async () => {
      const sim = await startOpenAthensSimulator({ now: () => NOW });
      running.push(sim);
      const counts = ['2024-02-20', '2024-02-21', '2024-02-22'].map((d) => sim.report('example.org', d).rows.length);
      for (const n of counts) expect(n).toBeGreaterThanOrEqual(50);
      for (const n of counts) expect(n).toBeLessThanOrEqual(500);
      expect(new Set(counts).size).toBeGreaterThan(1);
    });
  });
});
