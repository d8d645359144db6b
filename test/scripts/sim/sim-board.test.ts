import t from 'tap';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statSync, writeSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { ReadStream } from 'node:tty';
import { fileURLToPath } from 'node:url';
import { connectAsync } from 'mqtt';
import { PtzService } from '../../../firmware/ptz/index.js';
import { startSimBoard, type SimBoard } from '../../../scripts/sim/sim-board.js';

const here = dirname(fileURLToPath(import.meta.url));
const cameraScript = resolve(here, '../../../scripts/sim/rtsp-camera.py');

/** A port nothing listens on right now: bind port 0, note it, close. */
function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => res(port));
    });
  });
}

interface Probe {
  code: number;
  stdout: string;
  stderr: string;
}

function ffprobe(url: string, transport: 'tcp' | 'udp' = 'tcp'): Promise<Probe> {
  return new Promise((res) => {
    execFile(
      'ffprobe',
      ['-v', 'error', '-rw_timeout', '5000000', '-rtsp_transport', transport, '-show_streams', '-of', 'json', url],
      { timeout: 10000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        res({ code, stdout, stderr });
      },
    );
  });
}

interface Stream {
  codec_type: string;
  codec_name: string;
  width?: number;
  height?: number;
}

const videoStreams = (p: Probe): Stream[] =>
  (JSON.parse(p.stdout) as { streams: Stream[] }).streams.filter((s) => s.codec_type === 'video');

/** Pids of this process's live children, from /proc. */
function childPids(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === process.pid && fields[0] !== 'Z') pids.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return pids;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

t.test('sim board peripherals', async (t) => {
  const varDir = mkdtempSync(join(tmpdir(), 'sim-board-test-'));
  const [mqttPort, rtspPort] = await Promise.all([freePort(), freePort()]);
  const lines: string[] = [];
  const started = Date.now();
  // No dome simulator here: the raw pty test below reads the device end itself.
  const board: SimBoard = await startSimBoard({ varDir, mqttPort, rtspPort, cameras: 2, domes: [], log: (l) => lines.push(l) });
  t.comment(`started in ${Date.now() - started} ms`);
  t.teardown(async () => {
    await board.stop();
    rmSync(varDir, { recursive: true, force: true });
  });

  t.equal(board.mqttUrl, `mqtt://127.0.0.1:${mqttPort}`);
  t.same(board.rtspUrls, [`rtsp://127.0.0.1:${rtspPort}/cam1`, `rtsp://127.0.0.1:${rtspPort}/cam2`]);
  t.equal(board.rs485.firmwareEnd, join(varDir, 'sim', 'rs485-dvr'));
  t.equal(board.rs485.deviceEnd, join(varDir, 'sim', 'rs485-bus'));
  t.equal(board.pids.length, 3, 'mosquitto, camera and socat');

  t.test('disks are directories under varDir', async (t) => {
    t.same(board.disks, [join(varDir, 'disks', 'bay1'), join(varDir, 'disks', 'bay2')]);
    for (const d of board.disks) t.ok(statSync(d).isDirectory(), d);
    t.ok(statSync(join(varDir, 'sim')).isDirectory());
  });

  t.test('mqtt publish/subscribe round trip', async (t) => {
    const sub = await connectAsync(board.mqttUrl, { clientId: 'sim-test-sub', reconnectPeriod: 0 });
    const pub = await connectAsync(board.mqttUrl, { clientId: 'sim-test-pub', reconnectPeriod: 0 });
    t.teardown(async () => {
      await Promise.all([sub.endAsync(), pub.endAsync()]);
    });
    await sub.subscribeAsync('sim/test/#', { qos: 1 });
    const got = new Promise<{ topic: string; payload: string }>((res) =>
      sub.once('message', (topic, payload) => res({ topic, payload: payload.toString() })),
    );
    await pub.publishAsync('sim/test/hello', 'world', { qos: 1 });
    t.same(await got, { topic: 'sim/test/hello', payload: 'world' });
  });

  t.test('rtsp cameras serve h264 main and sub streams', async (t) => {
    const [cam1, cam1sub, cam2udp] = await Promise.all([
      ffprobe(board.rtspUrls[0]),
      ffprobe(`${board.rtspUrls[0]}/sub`),
      ffprobe(`${board.rtspUrls[1]}`, 'udp'),
    ]);
    t.equal(cam1.code, 0, `ffprobe cam1: ${cam1.stderr}`);
    t.equal(cam1sub.code, 0, `ffprobe cam1/sub: ${cam1sub.stderr}`);
    t.equal(cam2udp.code, 0, `ffprobe cam2 over udp: ${cam2udp.stderr}`);
    t.match(videoStreams(cam1), [{ codec_name: 'h264', width: 704, height: 576 }]);
    t.match(videoStreams(cam1sub), [{ codec_name: 'h264', width: 352, height: 288 }]);
    t.match(videoStreams(cam2udp), [{ codec_name: 'h264', width: 704, height: 576 }]);
  });

  t.test('rs485 pty pair passes raw bytes both ways', async (t) => {
    const fwFd = openSync(board.rs485.firmwareEnd, 'r+');
    const busFd = openSync(board.rs485.deviceEnd, 'r+');
    const bus = new ReadStream(busFd);
    const fw = new ReadStream(fwFd);
    t.teardown(() => {
      bus.destroy();
      fw.destroy();
    });
    const receive = (stream: ReadStream, n: number) =>
      new Promise<Buffer>((res, rej) => {
        const chunks: Buffer[] = [];
        let len = 0;
        const timer = setTimeout(() => rej(new Error(`only ${len} of ${n} bytes arrived`)), 3000);
        const onData = (c: Buffer) => {
          chunks.push(c);
          len += c.length;
          if (len >= n) {
            clearTimeout(timer);
            stream.off('data', onData);
            res(Buffer.concat(chunks));
          }
        };
        stream.on('data', onData);
      });
    // Modbus-like frame with bytes a cooked tty would mangle: CR, LF, ^C, ^D, 0x00, 0xff.
    const request = Buffer.from([0x01, 0x03, 0x00, 0x0d, 0x0a, 0x03, 0x04, 0xff, 0x11, 0x7f]);
    const reply = Buffer.from([0x01, 0x83, 0x02, 0xc0, 0xf1, 0x0d]);
    const atBus = receive(bus, request.length);
    writeSync(fwFd, request);
    t.same(await atBus, request, 'firmware end -> bus end');
    const atFw = receive(fw, reply.length);
    writeSync(busFd, reply);
    t.same(await atFw, reply, 'bus end -> firmware end');
  });

  t.test('stop() leaves no child behind', async (t) => {
    const pids = [...board.pids];
    for (const pid of pids) t.ok(alive(pid), `pid ${pid} runs before stop`);
    const t0 = Date.now();
    await board.stop();
    t.comment(`stopped in ${Date.now() - t0} ms`);
    for (const pid of pids) t.notOk(alive(pid), `pid ${pid} is gone`);
    t.same(childPids(), [], 'no child processes remain');
    await board.stop(); // idempotent
  });
});

t.test('PTZ domes answer on the RS-485 bus, Pelco-D and Pelco-P', async (t) => {
  const varDir = mkdtempSync(join(tmpdir(), 'sim-board-ptz-'));
  const board = await startSimBoard({ varDir, mqttPort: await freePort(), rtspPort: 0, cameras: 0, domes: [1, 2] });
  t.teardown(async () => {
    await board.stop();
    rmSync(varDir, { recursive: true, force: true });
  });
  t.same(board.domes, [1, 2]);
  t.equal(board.pids.length, 3, 'mosquitto, socat and the dome simulator');
  const ptz = new PtzService({
    line: { path: board.rs485.firmwareEnd, baudRate: 9600 },
    domes: [
      { id: 'd', protocol: 'd', address: 1 },
      { id: 'p', protocol: 'p', address: 2 },
    ],
  });
  await ptz.start();
  t.teardown(() => ptz.stop());
  for (const id of ['d', 'p']) {
    const dome = ptz.dome(id);
    const before = await dome.position!();
    await dome.move(1, 0, 0);
    await new Promise((r) => setTimeout(r, 300));
    await dome.stop();
    const after = await dome.position!();
    t.not(after.pan, before.pan, `dome ${id}: panning moved it (${before.pan} -> ${after.pan})`);
  }
});

t.test('a port in use is a clear error and nothing is left running', async (t) => {
  const varDir = mkdtempSync(join(tmpdir(), 'sim-board-test-'));
  t.teardown(() => rmSync(varDir, { recursive: true, force: true }));
  const blocker = createServer();
  await new Promise<void>((res) => blocker.listen(0, '127.0.0.1', res));
  t.teardown(() => new Promise<void>((res) => blocker.close(() => res())));
  const busy = (blocker.address() as AddressInfo).port;
  const rtspPort = await freePort();
  await t.rejects(
    startSimBoard({ varDir, mqttPort: busy, rtspPort, cameras: 1 }),
    { message: new RegExp(`mosquitto: port ${busy} on 127\\.0\\.0\\.1 is already in use`) },
  );
  t.same(childPids(), [], 'the peripherals that did start were stopped');
});

t.test('rtsp camera with digest auth', async (t) => {
  const password = 'pw-' + Math.random().toString(36).slice(2);
  const cam = spawn(
    '/usr/bin/python3',
    [cameraScript, '--port', '0', '--mount', '/cam1', '--width', '320', '--height', '240', '--user', 'admin', '--password-env'],
    { env: { ...process.env, RTSP_CAMERA_PASSWORD: password }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<number | null>((res) => cam.once('exit', (code) => res(code)));
  t.teardown(() => {
    if (cam.exitCode === null) cam.kill('SIGKILL');
  });
  let stderr = '';
  cam.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const ready = await new Promise<string>((res, rej) => {
    let out = '';
    const timer = setTimeout(() => rej(new Error(`no READY line; stderr: ${stderr}`)), 10000);
    cam.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /^READY (\S+)/m.exec(out);
      if (m) {
        clearTimeout(timer);
        res(m[1]);
      }
    });
    cam.once('exit', (code) => rej(new Error(`camera exited ${code}: ${stderr}`)));
  });
  t.match(ready, /^rtsp:\/\/127\.0\.0\.1:\d+\/cam1$/);
  t.notMatch(readFileSync(`/proc/${cam.pid}/cmdline`, 'utf8'), password, 'password is not on the command line');

  const withCreds = ready.replace('rtsp://', `rtsp://admin:${password}@`);
  const withWrong = ready.replace('rtsp://', 'rtsp://admin:wrong@');
  const [anon, wrong, good] = await Promise.all([ffprobe(ready), ffprobe(withWrong), ffprobe(withCreds)]);
  t.not(anon.code, 0, 'no credentials: refused');
  t.match(anon.stderr, /401/);
  t.not(wrong.code, 0, 'wrong password: refused');
  t.match(wrong.stderr, /401/);
  t.equal(good.code, 0, `with credentials: ${good.stderr}`);
  t.match(videoStreams(good), [{ codec_name: 'h264', width: 320, height: 240 }]);

  cam.kill('SIGTERM');
  t.equal(await exited, 0, 'exits cleanly on SIGTERM');
});
