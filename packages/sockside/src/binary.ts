// Binary data in the hook protocol's JSON: {"_sockside_binary": "<base64>"}
// stands for the bytes, at any depth, in requests and answers.
import { Buffer } from 'node:buffer';
import { BINARY_KEY } from './index.js';

// Standard base64 with padding, as Go's base64.StdEncoding decodes it.
const base64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** isBinary tells bytes (an ArrayBuffer, or a view on one: Uint8Array, Buffer, DataView, ...). */
export function isBinary(v: unknown): v is ArrayBuffer | ArrayBufferView {
  return v instanceof ArrayBuffer || ArrayBuffer.isView(v);
}

// setOwn sets an own property, "__proto__" included (JSON.parse makes it an
// own key; plain assignment would set the object's prototype instead).
function setOwn(o: Record<string, unknown>, k: string, v: unknown): void {
  if (k === '__proto__') Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  else o[k] = v;
}

function bytesOf(v: ArrayBuffer | ArrayBufferView): Buffer {
  return v instanceof ArrayBuffer ? Buffer.from(v) : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

/**
 * encodeBinary returns v with every ArrayBuffer and typed array (Buffer,
 * Uint8Array, DataView, ...) at any depth of its arrays and plain objects
 * replaced by {"_sockside_binary": base64}. v itself is not changed.
 */
export function encodeBinary(v: unknown): unknown {
  if (isBinary(v)) return { [BINARY_KEY]: bytesOf(v).toString('base64') };
  if (Array.isArray(v)) return v.map(encodeBinary);
  if (isPlainObject(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, e] of Object.entries(v)) setOwn(out, k, encodeBinary(e));
    return out;
  }
  return v;
}

/**
 * decodeBinary returns v (parsed JSON) with every {"_sockside_binary": base64}
 * object at any depth replaced by its bytes, a Buffer (a Uint8Array). An
 * object with other keys, or whose value is not base64, stays an object.
 */
export function decodeBinary(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(decodeBinary);
  if (isPlainObject(v)) {
    const keys = Object.keys(v);
    if (keys.length === 1 && keys[0] === BINARY_KEY && typeof v[BINARY_KEY] === 'string') {
      const s = (v[BINARY_KEY] as string).trim();
      if (base64.test(s)) return Buffer.from(s, 'base64');
    }
    const out: Record<string, unknown> = {};
    for (const [k, e] of Object.entries(v)) setOwn(out, k, decodeBinary(e));
    return out;
  }
  return v;
}

/** containsBinary tells whether v holds bytes at any depth of its arrays and plain objects. */
export function containsBinary(v: unknown): boolean {
  if (isBinary(v)) return true;
  if (Array.isArray(v)) return v.some(containsBinary);
  if (isPlainObject(v)) return Object.values(v).some(containsBinary);
  return false;
}
