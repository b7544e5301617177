'use client';

import { useEffect, useRef, useState, type FormEvent } from 'react';

type WsState = 'connecting' | 'open' | 'closed';

interface Entry {
  key: number;
  dir: 'in' | 'out';
  type: string;
  text: string;
}

/** wsURL is /ws on this origin (through Next's rewrite), or next to NEXT_PUBLIC_SOCKET_URL. */
function wsURL(): string {
  const base = new URL(process.env.NEXT_PUBLIC_SOCKET_URL || window.location.href);
  base.protocol = base.protocol === 'https:' ? 'wss:' : 'ws:';
  base.pathname = '/ws';
  base.search = '';
  base.hash = '';
  return base.toString();
}

let entrySeq = 0;

export function Echo() {
  const [state, setState] = useState<WsState>('connecting');
  const [log, setLog] = useState<Entry[]>([]);
  const [text, setText] = useState('');
  const ws = useRef<WebSocket | null>(null);

  const add = (e: Omit<Entry, 'key'>) => setLog((l) => [...l.slice(-99), { ...e, key: ++entrySeq }]);

  // The browser's own WebSocket; reconnects with a doubling delay.
  useEffect(() => {
    let stopped = false;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let delay = 500;
    const open = () => {
      setState('connecting');
      const sock = new WebSocket(wsURL());
      ws.current = sock;
      sock.onopen = () => {
        delay = 500;
        setState('open');
      };
      sock.onmessage = (ev) => {
        try {
          const m = JSON.parse(String(ev.data)) as { type: string; data?: unknown; error?: string };
          add({ dir: 'in', type: m.type, text: m.type === 'error' ? String(m.error) : JSON.stringify(m.data) });
        } catch {
          add({ dir: 'in', type: 'raw', text: String(ev.data) });
        }
      };
      sock.onclose = () => {
        if (ws.current === sock) ws.current = null;
        setState('closed');
        if (!stopped) {
          retry = setTimeout(open, delay);
          delay = Math.min(delay * 2, 10_000);
        }
      };
    };
    open();
    return () => {
      stopped = true;
      clearTimeout(retry);
      ws.current?.close();
    };
  }, []);

  function sendAs(type: 'echo' | 'broadcast') {
    return (e?: FormEvent) => {
      e?.preventDefault();
      const sock = ws.current;
      if (!sock || sock.readyState !== WebSocket.OPEN || !text) return;
      sock.send(JSON.stringify({ type, data: text }));
      add({ dir: 'out', type, text: JSON.stringify(text) });
      setText('');
    };
  }

  return (
    <section>
      <div className="spread">
        <h1>Plain WebSocket</h1>
        <span className="badge" data-testid="ws-state" data-state={state === 'open' ? 'connected' : state === 'closed' ? 'offline' : 'connecting'}>
          /ws {state}
        </span>
      </div>
      <p className="muted">
        The browser&apos;s native <code>WebSocket</code> to <code>/ws</code> on this origin; Next&apos;s rewrite carries
        the upgrade to the Go server. <code>echo</code> comes back to you, <code>broadcast</code> goes to every open page.
      </p>
      <form className="row panel" onSubmit={sendAs('echo')}>
        <input aria-label="text" value={text} placeholder="Hello" style={{ flex: 1 }} onChange={(e) => setText(e.target.value)} />
        <button type="submit" disabled={state !== 'open'}>
          Echo
        </button>
        <button type="button" className="secondary" disabled={state !== 'open'} onClick={() => sendAs('broadcast')()}>
          Broadcast
        </button>
      </form>
      <div className="panel">
        <ul className="log" data-testid="ws-log">
          {log.map((e) => (
            <li key={e.key} data-testid="ws-entry" data-dir={e.dir} data-type={e.type}>
              <span className="from">{e.dir === 'in' ? '←' : '→'} {e.type}</span>
              <span className="text">{e.text}</span>
            </li>
          ))}
        </ul>
      </div>
    </section>
  );
}
