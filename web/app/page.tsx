import Link from 'next/link';

export default function Home() {
  return (
    <section>
      <h1>sockside demo</h1>
      <p>
        Every page talks to the Go server same-origin: Next&apos;s rewrite table carries <code>/socket.io/</code> and{' '}
        <code>/ws</code> to it, long-polling and the websocket upgrade alike.
      </p>
      <ul className="cards">
        <li>
          <Link href="/chat">Chat</Link> rooms with presence, ordered messages, a shared live input, and a push from
          the Next back end through the emit API.
        </li>
        <li>
          <Link href="/feed">Feed</Link> orders pushed by the server, with a live chart.
        </li>
        <li>
          <Link href="/echo">Echo</Link> the browser&apos;s native WebSocket on <code>/ws</code>: echo and broadcast.
        </li>
        <li>
          <Link href="/status">Status</Link> sockets per namespace and transport, events per second.
        </li>
      </ul>
    </section>
  );
}
