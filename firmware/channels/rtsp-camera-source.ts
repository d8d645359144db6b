import { EventEmitter } from 'node:events';
import { RtspSource, type RtspSourceOptions } from '../media/rtsp/source.js';
import type { StreamKind } from '../media/types.js';
import type { FrameSource, FrameSourceEvents } from './source.js';

export interface RtspCameraOptions extends RtspSourceOptions {
  /** Which of the channel's streams this connection carries: its video becomes `main` or `sub`. */
  stream: 'main' | 'sub';
}

/**
 * An IP camera stream as a channel's FrameSource: the RTSP/RTP stack
 * (firmware/media/rtsp) does the protocol; this maps its tracks onto the
 * channel's streams. Audio is kept from the main connection only.
 */
export class RtspCameraSource extends EventEmitter<FrameSourceEvents> implements FrameSource {
  private source?: RtspSource;

  constructor(private readonly o: RtspCameraOptions) {
    super();
  }

  async start(): Promise<void> {
    const source = new RtspSource(this.o);
    this.source = source;
    const kindOf = (k: 'video' | 'audio'): StreamKind | null => (k === 'video' ? this.o.stream : this.o.stream === 'main' ? 'audio' : null);
    source.on('info', (track, info) => {
      const s = kindOf(track.kind);
      if (s) this.emit('info', s, info);
    });
    source.on('frame', (track, frame) => {
      const s = kindOf(track.kind);
      if (s) this.emit('frame', s, frame);
    });
    source.on('close', (err) => this.emit('close', err));
    await source.start();
  }

  async stop(): Promise<void> {
    const s = this.source;
    this.source = undefined;
    s?.removeAllListeners('close');
    await s?.stop();
  }
}
