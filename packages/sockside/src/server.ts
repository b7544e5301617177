// sockside/server: the server-side pieces, for route handlers, server
// actions and any Node back end. Never import it from a client component
// (it uses node:crypto and reads the secrets from the environment).
export {
  createHooksHandler,
  HookError,
  HOOK_HEADERS,
  MAX_SKEW_SECONDS,
  parseCookies,
  signHook,
  verifyHook,
  type AckReturn,
  type AnswerEmit,
  type ClientEventName,
  type ConnectContext,
  type DisconnectContext,
  type EmitTarget,
  type EventAck,
  type EventArgs,
  type EventContext,
  type EventHandler,
  type HookErrorInfo,
  type HookName,
  type HooksHandler,
  type HooksHandlerOptions,
  type NamespaceHooks,
  type ServerEventName,
  type SocketInfo,
  type VerifyFailure,
} from './hooks.js';
export {
  createEmitter,
  emit,
  internalURL,
  SocksideEmitError,
  type EmitData,
  type EmitFailure,
  type Emitter,
  type EmitterOptions,
  type EmitOptions,
} from './emit.js';
export { containsBinary, decodeBinary, encodeBinary, isBinary } from './binary.js';
export { toNodeListener } from './node.js';
export type * from './index.js';
