import t from 'tap';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONFIG_VERSION } from '../../../firmware/config/schema.js';
import { dvr, freePort, startFirmware, waitFor } from '../../helpers/firmware.js';
import { startCamera } from '../media/rtsp/camera.js';

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
  mkdirSync(join(varDir, 'data', 'config'), { recursive: true });
  writeFileSync(
    join(varDir, 'data', 'config', 'config.json'),
    JSON.stringify({
      version: CONFIG_VERSION,
      network: { httpPort: await freePort(), httpsPort: await freePort(), bindAddress: '127.0.0.1' },
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
  fw.child.kill('SIGTERM');
  t.equal((await fw.exited).code, 0, 'stops cleanly, closing the recording');
});
