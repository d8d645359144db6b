export { fallocate, fdatasync } from './fallocate.js';
