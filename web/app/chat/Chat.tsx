'use client';

import Link from 'next/link';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { ConnectionBadge } from '@/components/ConnectionBadge';
import { getHandshakeAuth, send, setHandshakeAuth, useEvent, useRestore, useSocket } from '@/lib/socket';
import type { Message, Presence } from '@/lib/socket-events';
import { announceToRoom } from './actions';

type Auth = { mode: 'off' } | { mode: 'on'; name: string | null };

interface Outgoing {
  key: number;
  text: string;
  state: 'sending' | 'queued' | 'failed';
  error?: string;
}

const nameKey = 'sockside-name';
let outgoingSeq = 0;

export function Chat({ auth, emitEnabled }: { auth: Auth; emitEnabled: boolean }) {
  const [name, setName] = useState('');
  const [roomInput, setRoomInput] = useState('lobby');
  const [room, setRoom] = useState<string | null>(null);
  // The session (socket id) the last successful join was for: rooms last as
  // long as the session, and a recovered session keeps its id.
  const [joinedIn, setJoinedIn] = useState<string | null>(null);
  const [members, setMembers] = useState<number | null>(null);
  const [me, setMe] = useState<string | null>(null);
  const [messages, setMessages] = useState<Message[]>([]);
  const [presence, setPresence] = useState<Presence[]>([]);
  const [outbox, setOutbox] = useState<Outgoing[]>([]);
  const [draft, setDraft] = useState('');
  const [live, setLive] = useState('');
  const [liveFrom, setLiveFrom] = useState<string | null>(null);
  const [announceText, setAnnounceText] = useState('');
  const [notice, setNotice] = useState<string | null>(null);
  const roomRef = useRef(room);
  roomRef.current = room;

  // Before useSocket's effect connects: the anonymous display name to offer
  // in the handshake (with auth on, the server takes the token's name).
  useEffect(() => {
    if (auth.mode !== 'off') return;
    const stored = localStorage.getItem(nameKey);
    if (stored) {
      setName(stored);
      if (getHandshakeAuth().name !== stored) setHandshakeAuth({ name: stored });
    }
  }, [auth.mode]);

  const { socket, status } = useSocket('/chat');

  // Join the room now and again after a reconnect that lost the session
  // (the server restarted): the client layer runs this before it flushes
  // messages queued while offline.
  useRestore(
    socket,
    room
      ? async () => {
          const ack = await socket.timeout(5000).emitWithAck('join', { room });
          if (ack.ok) {
            setJoinedIn(socket.id ?? null);
            setMembers(ack.members);
          } else {
            setNotice(`join: ${ack.error}`);
          }
        }
      : null,
    [room],
  );

  useEvent(socket, 'presence', (p) => {
    if (p.room !== roomRef.current) return;
    setMembers(p.members);
    setPresence((ps) => [...ps.slice(-49), p]);
    if (p.id === socket.id && p.event === 'join') setMe(p.user);
  });
  useEvent(socket, 'message', (m) => {
    if (m.room !== roomRef.current) return;
    // Shown in server-stamp order (ts, then id): with several server nodes
    // two messages can arrive in different orders at different clients,
    // but everyone sorts them the same way.
    setMessages((ms) => (ms.some((x) => x.id === m.id) ? ms : insertByStamp(ms.slice(-199), m)));
  });
  useEvent(socket, 'update-input', (u) => {
    if (u.room !== roomRef.current) return;
    setLive(u.value);
    setLiveFrom(u.from);
  });

  const connected = status.state === 'connected';
  const joined = connected && joinedIn !== null && joinedIn === status.id;

  function join(e: FormEvent) {
    e.preventDefault();
    const next = roomInput.trim();
    if (!next) return;
    if (auth.mode === 'off') {
      const n = name.trim();
      localStorage.setItem(nameKey, n);
      if ((getHandshakeAuth().name ?? '') !== n) {
        // The name is part of the handshake: reconnect to send it.
        setHandshakeAuth(n ? { name: n } : {}, { reconnect: true });
      }
    }
    if (room && room !== next && socket.connected) socket.emit('leave', { room }, () => {});
    if (room !== next) {
      setMessages([]);
      setPresence([]);
      setLive('');
      setLiveFrom(null);
      setJoinedIn(null);
      setMembers(null);
    }
    setRoom(next);
  }

  function sendMessage(e: FormEvent) {
    e.preventDefault();
    const text = draft.trim();
    if (!room || !text) return;
    const key = ++outgoingSeq;
    setOutbox((o) => [...o, { key, text, state: connected && joined ? 'sending' : 'queued' }]);
    setDraft('');
    send(socket, 'message', { room, text }).then(
      (ack) =>
        setOutbox((o) =>
          ack.ok ? o.filter((x) => x.key !== key) : o.map((x) => (x.key === key ? { ...x, state: 'failed', error: ack.error } : x)),
        ),
      (err: Error) => setOutbox((o) => o.map((x) => (x.key === key ? { ...x, state: 'failed', error: err.message } : x))),
    );
  }

  function changeLive(value: string) {
    setLive(value);
    setLiveFrom(null);
    // Live state is not worth queueing: only sent while connected.
    if (room && socket.connected) socket.emit('input-change', { room, value }, () => {});
  }

  async function pushFromServer(e: FormEvent) {
    e.preventDefault();
    if (!room || !announceText.trim()) return;
    const res = await announceToRoom(room, announceText);
    setNotice(res.ok ? 'pushed through the emit API' : `emit failed (${res.status}): ${res.error}`);
    if (res.ok) setAnnounceText('');
  }

  return (
    <section>
      <div className="spread">
        <h1>Chat</h1>
        <ConnectionBadge status={status} />
      </div>

      {auth.mode === 'on' && !auth.name && (
        <p className="panel error" data-testid="signin-hint">
          The server requires sign-in. <Link href="/signin?next=/chat">Sign in</Link> to chat.
        </p>
      )}

      <form className="row panel" onSubmit={join}>
        {auth.mode === 'off' ? (
          <label>
            Name{' '}
            <input name="name" value={name} maxLength={32} placeholder="guest" onChange={(e) => setName(e.target.value)} />
          </label>
        ) : (
          <span>
            Signed in as <b>{auth.name ?? 'nobody'}</b>
          </span>
        )}
        <label>
          Room <input name="room" value={roomInput} maxLength={64} required onChange={(e) => setRoomInput(e.target.value)} />
        </label>
        <button type="submit">{room && room === roomInput.trim() ? 'Rejoin' : 'Join'}</button>
        {room && (
          <span className="muted" data-testid="room-state" data-joined={String(joined)}>
            {joined ? `in #${room}` : connected ? `joining #${room}…` : `#${room}: waiting for the connection`} · <span data-testid="members">{members ?? '?'}</span> online
            {me ? ` · you are ${me}` : ''}
          </span>
        )}
      </form>

      {notice && (
        <p className="muted" data-testid="notice">
          {notice}
        </p>
      )}

      {room && (
        <div className="grid2">
          <div>
            <div className="panel">
              <ul className="log" data-testid="messages">
                {messages.map((m) => (
                  <li key={m.id} data-testid="message" data-from={m.from}>
                    <span className="from">{m.from}</span>
                    <span className="text">{m.text}</span>
                    <span className="time">{new Date(m.ts).toLocaleTimeString()}</span>
                  </li>
                ))}
                {outbox.map((o) => (
                  <li key={`out-${o.key}`} className="pending" data-testid="outgoing" data-state={o.state}>
                    {o.text} — {o.state}
                    {o.error ? `: ${o.error}` : ''}
                  </li>
                ))}
              </ul>
              <form className="row" onSubmit={sendMessage} style={{ marginTop: '0.5rem' }}>
                <input
                  name="message"
                  aria-label="message"
                  value={draft}
                  maxLength={4096}
                  placeholder="Say something"
                  style={{ flex: 1 }}
                  onChange={(e) => setDraft(e.target.value)}
                />
                <button type="submit">Send</button>
              </form>
              <p className="muted">Messages sent while offline wait in a queue and go out in order on reconnect.</p>
            </div>

            <div className="panel">
              <h2>Live input</h2>
              <textarea
                aria-label="live input"
                data-testid="live-input"
                value={live}
                onChange={(e) => changeLive(e.target.value)}
                placeholder="Type here; everyone in the room sees it as you type"
              />
              <p className="muted" data-testid="live-from">
                {liveFrom ? `last typed by ${liveFrom}` : ' '}
              </p>
            </div>

            <form className="panel row" onSubmit={pushFromServer}>
              <input
                aria-label="server message"
                value={announceText}
                placeholder="A message from the Next back end"
                style={{ flex: 1 }}
                onChange={(e) => setAnnounceText(e.target.value)}
              />
              <button type="submit" className="secondary" disabled={!emitEnabled}>
                Push from server
              </button>
              <p className="muted" style={{ width: '100%', margin: 0 }}>
                {emitEnabled
                  ? 'A server action calls POST /api/emit on the Go server; the secret stays on the server.'
                  : 'Set SOCKET_EMIT_SECRET (same value for Next and the Go server) to enable.'}
              </p>
            </form>
          </div>

          <div className="panel">
            <h2>Presence</h2>
            <ul className="log" data-testid="presence">
              {presence.map((p, i) => (
                <li key={i} data-testid="presence-event" data-event={p.event} data-user={p.user}>
                  {p.user} {p.event === 'join' ? 'joined' : 'left'} <span className="time">({p.members} online)</span>
                </li>
              ))}
            </ul>
          </div>
        </div>
      )}
    </section>
  );
}

/** Inserts m into ms, kept sorted by (ts, id). */
function insertByStamp(ms: Message[], m: Message): Message[] {
  let i = ms.length;
  while (i > 0 && (ms[i - 1].ts > m.ts || (ms[i - 1].ts === m.ts && ms[i - 1].id > m.id))) i--;
  return [...ms.slice(0, i), m, ...ms.slice(i)];
}
