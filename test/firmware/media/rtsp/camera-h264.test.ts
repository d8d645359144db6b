import t from 'tap';
import { streamCases } from './stream-cases.js';

streamCases(t, [
  { codec: 'h264', audio: false, transport: 'tcp', auth: false },
  { codec: 'h264', audio: true, transport: 'udp', auth: true },
]);
