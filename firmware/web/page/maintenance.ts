// The maintenance tab's heavier half: the HTTPS certificate (shown, replaced
// by an uploaded PEM pair), firmware upgrade, restart, and factory reset.
// Each asks before it acts; an upgrade, restart or reset then waits for the
// box and reloads the page.
import { api, h, session } from './ui.js';

interface Certificate {
  subject: string;
  issuer: string;
  validFrom: string;
  validTo: string;
  fingerprint: string;
  selfSigned: boolean;
}

/** Polls until the box answers again, then reloads (to the login or first-boot form). */
function reloadWhenBack(note: HTMLElement): void {
  const started = Date.now();
  const poll = () => {
    fetch('/api/v1/setup', { credentials: 'same-origin' }).then(
      (r) => (r.ok && Date.now() - started > 2000 ? location.reload() : setTimeout(poll, 1000)),
      () => {
        note.textContent = 'waiting for the box to come back…';
        setTimeout(poll, 1000);
      },
    );
  };
  setTimeout(poll, 1500);
}

function certificatePart(note: HTMLElement): HTMLElement {
  const info = h('p', { id: 'certificate' }, 'reading the certificate…');
  const show = (c: Certificate) =>
    info.replaceChildren(`${c.subject.replace(/\n/g, ', ')}${c.selfSigned ? ' (self-signed)' : `, issued by ${c.issuer.replace(/\n/g, ', ')}`}, valid until ${new Date(c.validTo).toLocaleDateString()}. SHA-256 ${c.fingerprint}`);
  void api<{ certificate: Certificate }>('GET', '/api/v1/system/certificate').then(
    (r) => show(r.certificate),
    (e: Error) => (info.textContent = e.message),
  );
  const cert = h('input', { type: 'file', name: 'cert-file', accept: '.pem,.crt,.cer' });
  const key = h('input', { type: 'file', name: 'key-file', accept: '.pem,.key' });
  const upload = h('button', { type: 'button', id: 'certificate-upload' }, 'Use this certificate');
  upload.addEventListener('click', () => {
    const [c, k] = [cert.files?.[0], key.files?.[0]];
    if (!c || !k) return void (note.textContent = 'choose the certificate file and its private key file');
    note.textContent = 'installing the certificate…';
    Promise.all([c.text(), k.text()])
      .then(([certText, keyText]) => api<{ certificate: Certificate }>('PUT', '/api/v1/system/certificate', { cert: certText, key: keyText }))
      .then(
        (r) => {
          show(r.certificate);
          note.textContent = 'certificate installed: new connections use it (the browser may ask again)';
        },
        (e: Error) => (note.textContent = e.message),
      );
  });
  return h(
    'section',
    {},
    h('h3', {}, 'HTTPS certificate'),
    info,
    h('div', { class: 'row' }, h('label', { class: 'inline' }, 'Certificate (PEM) ', cert), h('label', { class: 'inline' }, 'Private key (PEM) ', key), upload),
  );
}

interface UpgradeStatus {
  running: string;
  upgrade: { current: string | null; previous: string | null; trustedKeys: string[] } | null;
  maxBytes: number;
}

/** POSTs the bundle with XMLHttpRequest: fetch cannot report upload progress. */
function sendBundle(file: File, allowDowngrade: boolean, progress: HTMLProgressElement): Promise<{ note: string; restarting: string | null }> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/api/v1/system/upgrade${allowDowngrade ? '?allowDowngrade=true' : ''}`);
    xhr.setRequestHeader('content-type', 'application/octet-stream');
    if (session.csrf) xhr.setRequestHeader('x-csrf-token', session.csrf);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) progress.value = Math.round((100 * e.loaded) / e.total);
    };
    xhr.onload = () => {
      type Answer = { note?: string; restarting?: string | null; error?: { message?: string } };
      let body: Answer | null = null;
      try {
        body = JSON.parse(xhr.responseText) as Answer;
      } catch {
        // A proxy's or server's non-JSON error page: the status says enough.
      }
      if (xhr.status === 200 && body?.note) resolve({ note: body.note, restarting: body.restarting ?? null });
      else reject(new Error(body?.error?.message ?? `the box answered HTTP ${xhr.status}`));
    };
    xhr.onerror = () => reject(new Error('the upload was cut off: the box may have refused it before the end; check the file and try again'));
    xhr.send(file);
  });
}

function upgradePart(note: HTMLElement): HTMLElement {
  const info = h('p', { id: 'upgrade-status' }, 'reading the firmware slots…');
  const file = h('input', { type: 'file', name: 'firmware-file', accept: '.bundle,.dvrfw,application/octet-stream' });
  const downgrade = h('input', { type: 'checkbox', name: 'allow-downgrade' });
  const progress = h('progress', { id: 'upgrade-progress', max: '100', value: '0', hidden: '' });
  const upload = h('button', { type: 'button', id: 'upgrade' }, 'Upload and install');
  let maxBytes = Infinity;
  void api<UpgradeStatus>('GET', '/api/v1/system/upgrade').then(
    (s) => {
      maxBytes = s.maxBytes;
      const u = s.upgrade;
      if (!u) return void info.replaceChildren(`Firmware ${s.running}. This board takes no firmware upgrade.`);
      const slots = [u.current && u.current !== s.running ? `version ${u.current} is installed and runs from the next restart` : '', u.previous ? `the previous version (${u.previous}) is kept for a rollback` : '']
        .filter(Boolean)
        .join('; ');
      info.replaceChildren(`Firmware ${s.running}${slots ? `; ${slots}` : ''}.${u.trustedKeys.length ? '' : ' No signing key is trusted on this board: no upgrade is accepted.'}`);
    },
    (e: Error) => (info.textContent = e.message),
  );
  upload.addEventListener('click', () => {
    const f = file.files?.[0];
    if (!f) return void (note.textContent = 'choose the firmware bundle file');
    if (f.size > maxBytes) return void (note.textContent = `this file is larger than the ${Math.floor(maxBytes / 1048576)} MiB a bundle may be`);
    if (!confirm(`Install ${f.name}? The recorder restarts into the new firmware; recording stops for the time it takes.`)) return;
    upload.disabled = true;
    progress.hidden = false;
    progress.value = 0;
    note.textContent = 'uploading the firmware…';
    sendBundle(f, downgrade.checked, progress).then(
      (r) => {
        note.textContent = r.note;
        if (r.restarting) reloadWhenBack(note);
      },
      (e: Error) => {
        note.textContent = e.message;
        upload.disabled = false;
        progress.hidden = true;
      },
    );
  });
  return h(
    'section',
    {},
    h('h3', {}, 'Firmware upgrade'),
    info,
    h('div', { class: 'row' }, h('label', { class: 'inline' }, 'Bundle ', file), h('label', { class: 'inline' }, downgrade, ' allow an older version'), upload, progress),
  );
}

function restartPart(note: HTMLElement): HTMLElement {
  const restart = h('button', { type: 'button', id: 'restart' }, 'Restart');
  restart.addEventListener('click', () => {
    if (!confirm('Restart the recorder? Recording stops for the few seconds it takes.')) return;
    api<{ restarting: string }>('POST', '/api/v1/system/restart', { confirm: 'restart' }).then(
      (r) => {
        note.textContent = r.restarting === 'board' ? 'the board is rebooting…' : 'the firmware is restarting…';
        reloadWhenBack(note);
      },
      (e: Error) => (note.textContent = e.message),
    );
  });
  const password = h('input', { type: 'password', name: 'reset-password', autocomplete: 'current-password', placeholder: 'your password' });
  const keepNetwork = h('input', { type: 'checkbox', name: 'keep-network', checked: '' });
  const reset = h('button', { type: 'button', id: 'factory-reset', class: 'danger' }, 'Factory reset');
  reset.addEventListener('click', () => {
    if (!password.value) return void (note.textContent = 'type your password to confirm the factory reset');
    if (!confirm('Factory reset: every setting goes back to the factory values and every account and API token is removed. Recordings stay. Continue?')) return;
    api('POST', '/api/v1/system/factory-reset', { confirm: 'factory reset', password: password.value, keepNetwork: keepNetwork.checked }).then(
      () => {
        note.textContent = 'reset: the box restarts and asks for a new administrator account…';
        reloadWhenBack(note);
      },
      (e: Error) => (note.textContent = e.message),
    );
    password.value = '';
  });
  return h(
    'section',
    {},
    h('h3', {}, 'Restart and reset'),
    h('div', { class: 'row' }, restart),
    h('div', { class: 'row' }, password, h('label', { class: 'inline' }, keepNetwork, ' keep the network settings'), reset),
  );
}

export function maintenanceActions(note: HTMLElement): HTMLElement {
  return h('div', { class: 'maintenance-actions' }, certificatePart(note), upgradePart(note), restartPart(note));
}
