/** A small SVG chart: bars (or a line) of values, oldest first, no library. */
export function Chart({
  values,
  kind = 'bars',
  label,
  color = '#3158d4',
  slots = values.length,
}: {
  values: number[];
  kind?: 'bars' | 'line';
  label: string;
  color?: string;
  /** Width of the x axis in values (the newest sits at the right edge). */
  slots?: number;
}) {
  const width = 600;
  const height = 120;
  const pad = 4;
  const max = Math.max(1e-9, ...values);
  const n = Math.max(values.length, slots, 1);
  const step = (width - 2 * pad) / n;
  const x0 = n - values.length; // the slots still empty, on the left
  const y = (v: number) => height - pad - (v / max) * (height - 2 * pad);
  return (
    <figure style={{ margin: 0 }}>
      <svg className="chart" viewBox={`0 0 ${width} ${height}`} preserveAspectRatio="none" role="img" aria-label={label}>
        <line x1={0} x2={width} y1={height - pad} y2={height - pad} stroke="#e4e7ec" />
        {kind === 'bars' ? (
          values.map((v, i) => (
            <rect key={i} x={pad + (x0 + i) * step + 1} width={Math.max(step - 2, 1)} y={y(v)} height={height - pad - y(v)} fill={color} rx={2} />
          ))
        ) : values.length === 1 ? (
          <circle cx={pad + (x0 + 0.5) * step} cy={y(values[0])} r={3} fill={color} />
        ) : (
          <polyline
            fill="none"
            stroke={color}
            strokeWidth={2}
            points={values.map((v, i) => `${pad + (x0 + i) * step + step / 2},${y(v)}`).join(' ')}
          />
        )}
      </svg>
      <figcaption className="muted">
        {label} (max {Number.isInteger(max) ? max : max.toFixed(2)})
      </figcaption>
    </figure>
  );
}
