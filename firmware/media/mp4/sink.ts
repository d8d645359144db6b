/**
 * Where muxed bytes go: a file (written as `<name>.part` and renamed when
 * complete, so a failed export never leaves a half-written MP4 under the
 * real name) or a Node Writable (backpressure honoured). Small writes are
 * coalesced into 1 MiB blocks; frame data is copied in, so a source may
 * reuse its buffers once a frame has been handed over.
 */
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import type { Writable } from 'node:stream';

const BLOCK = 1 << 20;

export abstract class Sink {
  /** Files alternate two blocks: one being written while the other fills. */
  private spare: Uint8Array | undefined = new Uint8Array(BLOCK);
  private block: Uint8Array = new Uint8Array(BLOCK);
  private used = 0;
  /** The write in flight, if any: at most one, so memory stays at two blocks. */
  private pending: Promise<void> | undefined;
  /** Bytes accepted so far. */
  written = 0;

  /** Takes the bytes; returns a Promise only when it had to write (so callers await only then). */
  write(data: Uint8Array): Promise<void> | undefined {
    if (this.used + data.length > BLOCK || data.length >= BLOCK) return this.writeSlow(data);
    this.written += data.length;
    this.block.set(data, this.used);
    this.used += data.length;
    return undefined;
  }

  private async writeSlow(data: Uint8Array): Promise<void> {
    await this.flush();
    this.written += data.length;
    if (data.length < BLOCK) {
      this.block.set(data, this.used);
      this.used += data.length;
      return;
    }
    // Big: straight through. A file write is done when put() resolves, so no copy;
    // a stream may keep the chunk, and the source may reuse its buffer: copy.
    await this.settle();
    await this.put(this.reuseBlock ? data : data.slice());
  }

  /** Starts writing the filled block and returns once the previous write is done. */
  async flush(): Promise<void> {
    if (this.used === 0) return;
    const full = this.block.subarray(0, this.used);
    await this.settle();
    // A stream may still hold the block after put() resolves: hand it a fresh one (unzeroed, it is overwritten).
    const next = this.reuseBlock ? this.spare! : Buffer.allocUnsafeSlow(BLOCK);
    this.spare = this.reuseBlock ? this.block : undefined;
    this.block = next;
    this.used = 0;
    const p = this.put(full);
    p.catch(() => {}); // handled: settle() rethrows it
    this.pending = p;
  }

  /** Waits for the write in flight; rethrows its error. */
  protected async settle(): Promise<void> {
    const p = this.pending;
    this.pending = undefined;
    await p;
  }

  /** Whether put() is done with a buffer when it resolves (files), or may still hold it (streams). */
  protected abstract readonly reuseBlock: boolean;
  protected abstract put(data: Uint8Array): Promise<void>;
  abstract finish(): Promise<void>;
  /** After a failure: release resources and remove partial output where we can. */
  abstract abort(err?: unknown): Promise<void>;
}

export class FileSink extends Sink {
  protected readonly reuseBlock = true;
  private constructor(
    private readonly fh: FileHandle,
    private readonly path: string,
    private readonly partPath: string,
  ) {
    super();
  }

  static async create(path: string): Promise<FileSink> {
    const partPath = `${path}.part`;
    return new FileSink(await open(partPath, 'w'), path, partPath);
  }

  protected async put(data: Uint8Array): Promise<void> {
    for (let off = 0; off < data.length; ) {
      const { bytesWritten } = await this.fh.write(data, off, data.length - off);
      off += bytesWritten;
    }
  }

  async finish(): Promise<void> {
    await this.flush();
    await this.settle();
    await this.fh.sync();
    await this.fh.close();
    await rename(this.partPath, this.path);
  }

  async abort(): Promise<void> {
    await this.settle().catch(() => {});
    await this.fh.close().catch(() => {});
    await unlink(this.partPath).catch(() => {});
  }
}

export class StreamSink extends Sink {
  protected readonly reuseBlock = false;
  constructor(
    private readonly out: Writable,
    private readonly end: boolean,
  ) {
    super();
  }

  protected async put(data: Uint8Array): Promise<void> {
    if (this.out.destroyed || this.out.writableEnded) throw new Error('output stream closed before the export finished');
    if (!this.out.write(data)) await drained(this.out);
  }

  async finish(): Promise<void> {
    await this.flush();
    await this.settle();
    if (this.end) {
      this.out.end();
      await finished(this.out, { readable: false });
    }
  }

  /** A stream cannot take bytes back: the consumer sees it destroyed with the error. */
  async abort(err?: unknown): Promise<void> {
    if (!this.end) return;
    // The consumer's own 'error' listener, if any, still sees the error; without one, destroy(err)
    // would surface as an uncaught exception of the whole process.
    this.out.once('error', () => {});
    this.out.destroy(err instanceof Error ? err : undefined);
  }
}

/** Resolves on 'drain'; rejects if the stream errors or closes first (a viewer hanging up must not stall the export). */
function drained(out: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const finish = (err?: Error): void => {
      out.off('drain', onDrain).off('close', onClose).off('error', onError);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = (): void => finish();
    const onClose = (): void => finish(new Error('output stream closed before the export finished'));
    const onError = (e: Error): void => finish(e);
    out.on('drain', onDrain).on('close', onClose).on('error', onError);
  });
}
