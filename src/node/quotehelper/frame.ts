/** Reading one length-prefixed AESM frame from a socket, bounded in size and time. */
import type { Socket } from 'node:net';

export type FrameProblem = 'oversized' | 'empty' | 'closed' | 'timeout';

export class FrameError extends Error {
  constructor(readonly problem: FrameProblem, message: string) {
    super(message);
    this.name = 'FrameError';
  }
}

export interface FrameLimits {
  maxBytes: number;
  timeoutMs: number;
}

/** Resolves with the message of the first frame; rejects on a bad length, an early close or the deadline. */
export function readFrame(socket: Socket, limits: FrameLimits): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let have = 0;
    let expected: number | undefined;
    const done = (error: FrameError | undefined, message?: Buffer) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      socket.off('error', onError);
      if (error) reject(error);
      else resolve(message!);
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      have += chunk.length;
      if (expected === undefined && have >= 4) {
        expected = Buffer.concat(chunks).readUInt32LE(0);
        if (expected === 0) return done(new FrameError('empty', 'empty frame'));
        if (expected > limits.maxBytes) return done(new FrameError('oversized', `frame of ${expected} bytes is over the ${limits.maxBytes}-byte limit`));
      }
      if (expected !== undefined && have >= 4 + expected) {
        socket.pause();
        done(undefined, Buffer.concat(chunks).subarray(4, 4 + expected));
      }
    };
    const onEnd = () => done(new FrameError('closed', 'connection closed before a whole frame arrived'));
    const onError = () => done(new FrameError('closed', 'connection failed'));
    const timer = setTimeout(() => done(new FrameError('timeout', `no whole frame within ${limits.timeoutMs} ms`)), limits.timeoutMs);
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('close', onEnd);
    socket.on('error', onError);
    socket.resume();
  });
}
