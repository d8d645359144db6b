export { OnvifCamera, readProfile, redactUri, type DeviceInfo, type OnvifCameraOptions, type OnvifProfile, type OnvifStream, type OnvifStreams } from './camera.js';
export { discover, parseProbeMatches, probeMessage, WS_DISCOVERY_ADDRESS, WS_DISCOVERY_PORT, type DiscoverOptions, type DiscoveredDevice } from './discovery.js';
export { OnvifError, toOnvifError, type OnvifErrorCode } from './errors.js';
export { OnvifEvents, type OnvifEventsOptions } from './events.js';
export { meaningOf, notificationsOf, parseNotification, parsePullMessagesXml, parseState, plainTopic, type EventMeaning, type OnvifNotification } from './notifications.js';
export { OnvifPtz, xmlText, type OnvifPtzOptions } from './ptz.js';
export { parseSoapBody } from './soap.js';
