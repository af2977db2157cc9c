/**
 * Per-tunnel access policy, enforced at the edge before a request reaches the agent:
 *
 *   const spec = parsePolicySpec(bind.policy);          // once per BIND; throws TunnelError
 *   const policy = compilePolicy(spec, { clock });      // once per BIND; keep with the tunnel
 *   const decision = evaluate(policy, { remoteAddress, method, path, headers, secure });
 *
 * `decision.action === 'respond'`: wait `delayMs`, answer with status/headers/body.
 * `decision.action === 'forward'`: send `requestHeaders` and `path` on, run response heads
 * through `responseHeaderEdit`, append `setCookie` if set. Host is the agent's business.
 */

export {
  overlayPolicies,
  parsePolicySpec,
  parseStoredPolicySpec,
  redactPolicySpec,
  type TunnelPolicySpec,
} from './policy-spec.js';
export {
  compilePolicy,
  TunnelPolicy,
  type CapturePolicy,
  type CompilePolicyOptions,
} from './compile-policy.js';
export { evaluate, type Decision, type ForwardDecision, type PolicyRequest } from './evaluate.js';
export type { RespondDecision } from './policy-responses.js';
export { DEFAULT_AUTH_FAILURE_LIMITS, type AuthFailureLimits } from './auth-failures.js';
export { TokenBuckets, type Rate, type TakeResult } from './token-bucket.js';
export { PolicyBook } from './policy-book.js';
