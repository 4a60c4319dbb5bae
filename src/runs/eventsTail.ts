// Follows a growing events.jsonl written by another process (the recorder in a user's
// script, the CLI in a terminal, a sweep on another machine writing to a shared folder):
// each read returns the events appended since the last one. Reads by byte offset, so a
// long run is never re-read; a line still being written (no newline yet) waits for the
// next read instead of being dropped or parsed half-written.
import * as fs from 'node:fs/promises';
import { parseEngineEvent } from '../protocol/engineMessages';
import type { EngineEvent } from '../protocol/engineMessages';

export interface TailRead {
  events: EngineEvent[];
  /** Complete lines that are not valid events (skipped, as parseEventsText does). */
  invalidLines: number;
  /** The file became shorter than what was read (replaced or truncated): reading restarted at 0. */
  restarted: boolean;
}

export class EventsTail {
  private offset = 0;
  /** Bytes of an incomplete last line, kept until its newline arrives. */
  private partial: Buffer = Buffer.alloc(0);
  private reading: Promise<TailRead> | undefined;

  constructor(readonly file: string) {}

  /** Bytes consumed so far (complete lines only). */
  get position(): number {
    return this.offset - this.partial.length;
  }

  /** Events appended since the last read; a missing file has none yet. Reads never overlap. */
  read(): Promise<TailRead> {
    // Two triggers (a watcher event and a poll) may ask at once: the second waits for the first.
    const next = (this.reading ?? Promise.resolve(undefined)).then(() => this.readOnce());
    this.reading = next.catch(() => ({ events: [], invalidLines: 0, restarted: false }));
    return next;
  }

  private async readOnce(): Promise<TailRead> {
    let fh: fs.FileHandle;
    try {
      fh = await fs.open(this.file, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { events: [], invalidLines: 0, restarted: false };
      throw err;
    }
    try {
      const { size } = await fh.stat();
      let restarted = false;
      if (size < this.offset) {
        this.offset = 0;
        this.partial = Buffer.alloc(0);
        restarted = true;
      }
      if (size === this.offset) return { events: [], invalidLines: 0, restarted };
      const chunk = Buffer.alloc(size - this.offset);
      const { bytesRead } = await fh.read(chunk, 0, chunk.length, this.offset);
      this.offset += bytesRead;
      const data = Buffer.concat([this.partial, chunk.subarray(0, bytesRead)]);
      // Split on the byte 0x0a: a multi-byte character never contains it, so cutting there is safe.
      const lastNewline = data.lastIndexOf(0x0a);
      this.partial = lastNewline < 0 ? data : data.subarray(lastNewline + 1);
      const complete = lastNewline < 0 ? '' : data.subarray(0, lastNewline).toString('utf8');
      const events: EngineEvent[] = [];
      let invalidLines = 0;
      for (const line of complete.split('\n')) {
        if (!line.trim()) continue;
        try {
          const r = parseEngineEvent(JSON.parse(line));
          if (r.ok) events.push(r.value);
          else invalidLines++;
        } catch {
          invalidLines++;
        }
      }
      return { events, invalidLines, restarted };
    } finally {
      await fh.close();
    }
  }
}
