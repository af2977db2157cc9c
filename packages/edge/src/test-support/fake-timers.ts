/**
 * The one manual clock for edge tests: the protocol's `FakeTimers` (time moves only on
 * `advance`, due callbacks run in order). The protocol's test support is outside its
 * package exports, so edge tests reach it through this file alone.
 */
export { FakeTimers } from '../../../protocol/src/test-support/fake-timers.js';
