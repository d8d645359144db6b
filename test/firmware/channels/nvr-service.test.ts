import t from 'tap';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONFIG_VERSION } from '../../../firmware/config/schema.js';
import { dvr, freePort, startFirmware, waitFor } from '../../helpers/firmware.js';
import { startCamera } from '../media/rtsp/camera.js';
import { execFile } from 'node:child_process';
import { request } from 'node:https';

/** A JSON POST to the firmware's HTTPS API (its self-signed certificate is the box's own; the test does not pin it). */
function post(port: number, path: string, body: unknown): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path, rejectUnauthorized: false, headers: { 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

/** What ffprobe, as Home Assistant's stream component would, reads from an RTSP URL: the video codec and frames in 2 s, or its error. */
function probeRtsp(url: string): Promise<{ codec?: string; frames?: number; error?: string }> {
  return new Promise((resolve) => {
    execFile(
      'ffprobe',
      ['-v', 'error', '-rtsp_transport', 'tcp', '-read_intervals', '%+2', '-select_streams', 'v:0', '-count_packets', '-show_entries', 'stream=codec_name,nb_read_packets', '-of', 'json', url],
      { timeout: 30_000 },
      (e, stdout, stderr) => {
        if (e) return resolve({ error: stderr || e.message });
        const st = (JSON.parse(stdout) as { streams: { codec_name: string; nb_read_packets: string }[] }).streams[0];
        resolve(st ? { codec: st.codec_name, frames: Number(st.nb_read_packets) } : { error: 'no video stream' });
      },
    );
  });
}

interface Status {
  channels: { channel: string; state: string }[];
  recording: { channel: string; stream: string }[];
  disks: { name: string; state: string; blocks: number; freeBlocks: number }[];
  writers: Record<string, { frames: number; bytes: number; dropped: number }>;
  services: { name: string; state: string }[];
}

t.test('the firmware on the sim board records an IP camera into the store on its file-backed disks', async (t) => {
  const camera = await startCamera();
  t.teardown(() => camera.stop());
  const varDir = mkdtempSync(join(tmpdir(), 'dvr-nvr-'));
  const common = ['--board', 'sim', '--var', varDir];
  const [httpsPort, rtspPort] = [await freePort(), await freePort()];
  mkdirSync(join(varDir, 'data', 'config'), { recursive: true });
  writeFileSync(
    join(varDir, 'data', 'config', 'config.json'),
    JSON.stringify({
      version: CONFIG_VERSION,
      network: { httpPort: await freePort(), httpsPort, rtspPort, bindAddress: '127.0.0.1' },
      channels: [
        { id: 'gate', name: 'Gate', main: { url: camera.url } },
        { id: 'yard', name: 'Yard', main: { url: 'rtsp://127.0.0.1:1/nothing-here' } },
      ],
    }),
  );
  const fw = startFirmware(common);
  t.teardown(() => void fw.child.kill('SIGKILL'));
  const status = async () => JSON.parse((await dvr(['status', '--json', ...common])).stdout) as Status;
  const s = await waitFor(
    'the gate camera recording',
    async () => {
      const st = await status();
      const w = Object.entries(st.writers).find(([k]) => k.includes('gate'))?.[1];
      return st.channels.find((c) => c.channel === 'gate')?.state === 'streaming' && (w?.frames ?? 0) >= 75 && st;
    },
    60_000,
  );
  const gate = Object.entries(s.writers).find(([k]) => k.includes('gate'))![1];
  t.ok(gate.frames >= 75 && gate.bytes > 0 && gate.dropped === 0, `3 s of the camera written, none dropped (${gate.frames} frames, ${gate.bytes} bytes)`);
  t.ok(s.recording.some((r) => r.channel === 'gate' && r.stream === 'main'), 'the store lists the recording');
  t.same(s.disks.map((d) => `${d.name}:${d.state}`), ['bay1:ok', 'bay2:ok'], 'the sim bays were formatted on first start');
  t.equal(s.channels.find((c) => c.channel === 'yard')?.state === 'streaming', false, 'an unreachable camera is reported, not faked');
  t.ok(s.services.every((x) => x.state === 'running'), 'every service runs even with one camera down');

  // The restream: what Home Assistant or another NVR pulls. No account yet, so nobody gets in;
  // once the installer has made the admin account, its credentials open the camera's live stream.
  const closed = await probeRtsp(`rtsp://127.0.0.1:${rtspPort}/gate/main`);
  t.match(closed.error, /401|Unauthorized/i, 'no credentials: 401');
  t.equal(await post(httpsPort, '/api/v1/setup', { name: 'installer', password: 'Install-Er-2026' }), 201, 'admin account made');
  const wrong = await probeRtsp(`rtsp://installer:wrong-password@127.0.0.1:${rtspPort}/gate/main`);
  t.match(wrong.error, /401|Unauthorized/i, 'a wrong password: 401');
  const live = await probeRtsp(`rtsp://installer:Install-Er-2026@127.0.0.1:${rtspPort}/gate/main`);
  t.equal(live.codec, 'h264', `the live stream as the camera sends it${live.error ? `: ${live.error}` : ''}`);
  t.ok((live.frames ?? 0) >= 10, `frames flow (${live.frames} in 2 s)`);
  const none = await probeRtsp(`rtsp://installer:Install-Er-2026@127.0.0.1:${rtspPort}/nothere/main`);
  t.match(none.error, /404|Not Found/i, 'an unknown channel: 404');

  fw.child.kill('SIGTERM');
  t.equal((await fw.exited).code, 0, 'stops cleanly, closing the recording');
});
