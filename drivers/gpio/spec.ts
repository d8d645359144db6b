// What this binding uses of linux/gpio.h (the character device uAPI v2), as
// lists the probe (probe.ts) turns into sizeof/offsetof/macro values. The
// committed numbers live in layout.ts; the layout test compiles the probe for
// every target ABI and compares.

/** Struct name -> the fields whose offset and size the binding relies on. */
export const STRUCTS = {
  gpiochip_info: ['name', 'label', 'lines'],
  gpio_v2_line_attribute: ['id', 'padding', 'flags', 'values', 'debounce_period_us'],
  gpio_v2_line_config_attribute: ['attr', 'mask'],
  gpio_v2_line_config: ['flags', 'num_attrs', 'padding', 'attrs'],
  gpio_v2_line_request: ['offsets', 'consumer', 'config', 'num_lines', 'event_buffer_size', 'padding', 'fd'],
  gpio_v2_line_info: ['name', 'consumer', 'offset', 'num_attrs', 'flags', 'attrs', 'padding'],
  gpio_v2_line_values: ['bits', 'mask'],
  gpio_v2_line_event: ['timestamp_ns', 'id', 'offset', 'seqno', 'line_seqno', 'padding'],
} as const;

export const IOCTLS = [
  'GPIO_GET_CHIPINFO_IOCTL',
  'GPIO_V2_GET_LINEINFO_IOCTL',
  'GPIO_V2_GET_LINE_IOCTL',
  'GPIO_V2_LINE_SET_CONFIG_IOCTL',
  'GPIO_V2_LINE_GET_VALUES_IOCTL',
  'GPIO_V2_LINE_SET_VALUES_IOCTL',
] as const;

export const CONSTANTS = [
  'GPIO_MAX_NAME_SIZE',
  'GPIO_V2_LINES_MAX',
  'GPIO_V2_LINE_NUM_ATTRS_MAX',
  'GPIO_V2_LINE_FLAG_USED',
  'GPIO_V2_LINE_FLAG_ACTIVE_LOW',
  'GPIO_V2_LINE_FLAG_INPUT',
  'GPIO_V2_LINE_FLAG_OUTPUT',
  'GPIO_V2_LINE_FLAG_EDGE_RISING',
  'GPIO_V2_LINE_FLAG_EDGE_FALLING',
  'GPIO_V2_LINE_FLAG_OPEN_DRAIN',
  'GPIO_V2_LINE_FLAG_OPEN_SOURCE',
  'GPIO_V2_LINE_FLAG_BIAS_PULL_UP',
  'GPIO_V2_LINE_FLAG_BIAS_PULL_DOWN',
  'GPIO_V2_LINE_FLAG_BIAS_DISABLED',
  'GPIO_V2_LINE_FLAG_EVENT_CLOCK_REALTIME',
  'GPIO_V2_LINE_ATTR_ID_FLAGS',
  'GPIO_V2_LINE_ATTR_ID_OUTPUT_VALUES',
  'GPIO_V2_LINE_ATTR_ID_DEBOUNCE',
  'GPIO_V2_LINE_EVENT_RISING_EDGE',
  'GPIO_V2_LINE_EVENT_FALLING_EDGE',
] as const;

export type StructName = keyof typeof STRUCTS;
export type IoctlName = (typeof IOCTLS)[number];
export type ConstantName = (typeof CONSTANTS)[number];

/** [offset, size] in bytes. */
export type FieldLayout = readonly [number, number];

export interface GpioLayout {
  structs: { [S in StructName]: { size: number; align: number; fields: { [F in (typeof STRUCTS)[S][number]]: FieldLayout } } };
  ioctls: Record<IoctlName, number>;
  constants: Record<ConstantName, number>;
}
