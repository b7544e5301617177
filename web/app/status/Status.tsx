'use client';

import Link from 'next/link';
import { useEffect, useState } from 'react';
import { Chart } from '@/components/Chart';
import type { Stats } from '@/lib/sockside';

const pollMs = 1000;
const history = 60;

interface Rates {
  eventsIn: number;
  eventsOut: number;
  bytesIn: number;
  bytesOut: number;
}

type Problem = { kind: 'unauthorized' } | { kind: 'unreachable'; error: string };

export function Status() {
  const [stats, setStats] = useState<Stats | null>(null);
  const [rates, setRates] = useState<Rates | null>(null);
  const [series, setSeries] = useState<Rates[]>([]);
  const [problem, setProblem] = useState<Problem | null>(null);

  // Poll the counters; rates are deltas over the time between two samples.
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let prev: Stats | null = null;
    const poll = async () => {
      try {
        const res = await fetch('/api/stats', { cache: 'no-store' });
        if (res.status === 401) {
          setProblem({ kind: 'unauthorized' });
        } else if (!res.ok) {
          setProblem({ kind: 'unreachable', error: `${res.status} ${(await res.text()).slice(0, 200)}` });
        } else {
          const cur = (await res.json()) as Stats;
          if (prev && cur.ts > prev.ts) {
            const dt = (cur.ts - prev.ts) / 1000;
            const r: Rates = {
              eventsIn: Math.max(0, cur.eventsIn - prev.eventsIn) / dt,
              eventsOut: Math.max(0, cur.eventsOut - prev.eventsOut) / dt,
              bytesIn: Math.max(0, cur.bytesIn - prev.bytesIn) / dt,
              bytesOut: Math.max(0, cur.bytesOut - prev.bytesOut) / dt,
            };
            setRates(r);
            setSeries((s) => [...s.slice(-(history - 1)), r]);
          }
          prev = cur;
          setStats(cur);
          setProblem(null);
        }
      } catch (err) {
        setProblem({ kind: 'unreachable', error: (err as Error).message });
      }
      if (!stopped) timer = setTimeout(poll, pollMs);
    };
    void poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, []);

  const namespaces = stats ? Object.keys(stats.sockets).sort() : [];
  const transports = ['polling', 'websocket'];
  const total = (ns: string) => transports.reduce((n, t) => n + (stats?.sockets[ns]?.[t] ?? 0), 0);
  const readiness = !stats ? 'unknown' : stats.draining ? 'draining' : stats.ready ? 'ready' : 'starting';

  return (
    <section>
      <div className="spread">
        <h1>Server status</h1>
        <span className="badge" data-testid="readiness" data-state={readiness === 'ready' && !problem ? 'connected' : 'offline'}>
          {problem ? (problem.kind === 'unauthorized' ? 'unauthorized' : 'unreachable') : readiness}
        </span>
      </div>
      {problem?.kind === 'unauthorized' && (
        <p className="panel error" data-testid="stats-problem">
          The server requires sign-in for its stats. <Link href="/signin?next=/status">Sign in</Link>.
        </p>
      )}
      {problem?.kind === 'unreachable' && (
        <p className="panel error" data-testid="stats-problem">
          Cannot read the server&apos;s stats: {problem.error}
        </p>
      )}
      <div className="stats">
        <Stat label="events in /s" value={rates?.eventsIn} testid="rate-in" />
        <Stat label="events out /s" value={rates?.eventsOut} testid="rate-out" />
        <Stat label="KiB in /s" value={rates && rates.bytesIn / 1024} />
        <Stat label="KiB out /s" value={rates && rates.bytesOut / 1024} />
        <Stat label="plain /ws clients" value={stats?.plainWs} testid="plain-ws" />
        <Stat label="goroutines" value={stats?.goroutines} />
      </div>
      <div className="panel">
        <h2>Sockets</h2>
        <table data-testid="sockets">
          <thead>
            <tr>
              <th>namespace</th>
              {transports.map((t) => (
                <th key={t} className="num">
                  {t}
                </th>
              ))}
              <th className="num">total</th>
            </tr>
          </thead>
          <tbody>
            {namespaces.map((ns) => (
              <tr key={ns} data-testid="ns-row" data-ns={ns}>
                <td>{ns}</td>
                {transports.map((t) => (
                  <td key={t} className="num" data-transport={t}>
                    {stats?.sockets[ns]?.[t] ?? 0}
                  </td>
                ))}
                <td className="num" data-testid="ns-total">
                  {total(ns)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="panel">
        <Chart kind="line" slots={history} values={series.map((r) => r.eventsOut)} label="events out per second, last minute" />
        <Chart kind="line" slots={history} values={series.map((r) => r.eventsIn)} label="events in per second, last minute" color="#12805c" />
      </div>
    </section>
  );
}

function Stat({ label, value, testid }: { label: string; value: number | null | undefined; testid?: string }) {
  const text = value == null ? '–' : Number.isInteger(value) ? String(value) : value.toFixed(1);
  return (
    <div className="stat">
      <span className="muted">{label}</span>
      <b data-testid={testid}>{text}</b>
    </div>
  );
}
