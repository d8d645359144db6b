export { describeBlockDevice, BlockDeviceError, type BlockDevice } from './block.js';
export { parseSmartctlJson, readSmartHealth, SmartError, type SmartHealth } from './smart.js';
