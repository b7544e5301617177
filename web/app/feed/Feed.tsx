'use client';

import { useEffect, useState } from 'react';
import { Chart } from '@/components/Chart';
import { ConnectionBadge } from '@/components/ConnectionBadge';
import { useEvent, useSocket } from '@/lib/socket';
import type { Order } from '@/lib/socket-events';

const keep = 50;
const bucketSeconds = 5;
const buckets = 24; // two minutes

const money = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });

export function Feed() {
  const { socket, status } = useSocket('/feed');
  const [orders, setOrders] = useState<Order[]>([]);
  const [received, setReceived] = useState(0);
  const [now, setNow] = useState(() => Date.now());

  // On connect the server sends the last 20, newest first; then each new one.
  useEvent(socket, 'recent', (recent) => setOrders((os) => merge(recent, os)));
  useEvent(socket, 'order', (o) => {
    setOrders((os) => merge([o], os));
    setReceived((n) => n + 1);
  });

  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);

  // Orders per second in 5-second buckets, oldest first.
  const rates = new Array<number>(buckets).fill(0);
  for (const o of orders) {
    const age = Math.floor((now - o.ts) / 1000 / bucketSeconds);
    if (age >= 0 && age < buckets) rates[buckets - 1 - age] += 1 / bucketSeconds;
  }
  const revenue = orders.reduce((sum, o) => sum + o.total, 0);

  return (
    <section>
      <div className="spread">
        <h1>Order feed</h1>
        <ConnectionBadge status={status} />
      </div>
      <div className="stats">
        <div className="stat">
          <span className="muted">live orders received</span>
          <b data-testid="received">{received}</b>
        </div>
        <div className="stat">
          <span className="muted">orders shown</span>
          <b data-testid="shown">{orders.length}</b>
        </div>
        <div className="stat">
          <span className="muted">their revenue</span>
          <b>{money.format(revenue)}</b>
        </div>
      </div>
      <div className="panel">
        <Chart values={rates} label={`orders per second, ${bucketSeconds}-second buckets, last ${(buckets * bucketSeconds) / 60} minutes`} />
      </div>
      <div className="panel">
        <table data-testid="orders">
          <thead>
            <tr>
              <th>order</th>
              <th>items</th>
              <th className="num">total</th>
              <th className="num">time</th>
            </tr>
          </thead>
          <tbody>
            {orders.map((o) => (
              <tr key={o.id} data-testid="order" data-id={o.id}>
                <td>{o.id}</td>
                <td>{o.items.map((i) => `${i.qty}× ${i.name}`).join(', ')}</td>
                <td className="num">{money.format(o.total)}</td>
                <td className="num">{new Date(o.ts).toLocaleTimeString()}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

/** merge puts incoming orders into the list, newest first, without duplicates. */
function merge(incoming: Order[], current: Order[]): Order[] {
  const seen = new Set(current.map((o) => o.id));
  const fresh = incoming.filter((o) => !seen.has(o.id));
  if (fresh.length === 0) return current;
  return [...fresh, ...current].sort((a, b) => b.ts - a.ts).slice(0, keep);
}
