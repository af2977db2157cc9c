/**
 * Output lines gathered per event-loop turn and written once. Under load the agent logs a
 * line per request; writing each on its own costs a syscall per request (stdout to a pipe
 * or file is synchronous on Linux), about a tenth of the agent's CPU in the benchmark.
 */

export interface TextSink {
  write(chunk: string): unknown;
}

export class BatchedSink implements TextSink {
  private pending = '';
  private scheduled = false;

  constructor(private readonly target: TextSink) {}

  write(chunk: string): boolean {
    this.pending += chunk;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
    return true;
  }

  /** Writes what is pending now; called before the process exits. */
  flush(): void {
    this.scheduled = false;
    if (this.pending === '') return;
    const text = this.pending;
    this.pending = '';
    this.target.write(text);
  }
}
