import t from 'tap';
import { streamCases } from './stream-cases.js';

streamCases(t, [
  { codec: 'h265', audio: true, transport: 'tcp', auth: true },
  { codec: 'h265', audio: false, transport: 'udp', auth: false },
]);
