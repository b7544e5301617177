import type { ConnectionStatus } from '@/lib/socket';

/** ConnectionBadge shows a socket's status; data-* attributes mirror it for tests. */
export function ConnectionBadge({ status, label }: { status: ConnectionStatus; label?: string }) {
  let text: string;
  switch (status.state) {
    case 'connected':
      text = `connected via ${status.transport ?? '…'}${status.recovered ? ' (recovered)' : ''}`;
      break;
    case 'connecting':
      text = 'connecting…';
      break;
    case 'reconnecting':
      text = `reconnecting${status.attempt > 0 ? ` (attempt ${status.attempt})` : ''}…`;
      break;
    case 'offline':
      text = status.error ? `offline: ${status.error}` : 'offline';
      break;
  }
  return (
    <span
      className="badge"
      role="status"
      data-testid={label ? `badge-${label}` : 'badge'}
      data-state={status.state}
      data-transport={status.transport ?? ''}
      data-recovered={String(status.recovered)}
      data-error={status.error ?? ''}
      title={status.id ? `socket ${status.id}` : undefined}
    >
      {label ? `${label}: ` : ''}
      {text}
      {status.queued > 0 ? ` · ${status.queued} queued` : ''}
    </span>
  );
}
