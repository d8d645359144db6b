export { M2mEncoder, type M2mCodedFormat, type M2mEncoderOptions } from './encoder.js';
export { bufferLayout, copyIntoBuffer, parseFps, type OutputGeometry } from './planes.js';
