export { type FlatSettings, isFlat, type LumaPlane, lumaOfYuyv, lumaStats, type LumaStats } from './luma.js';
export { cellShare, detectMotion, type MotionResult, type MotionSettings } from './motion.js';
export { emptyBaseline, isTampered, type TamperBaseline, type TamperSettings, updateBaseline } from './tamper.js';
export { ChannelAnalytics, type ChannelAnalyticsOptions, type MotionTiming, type TamperTiming } from './monitor.js';
