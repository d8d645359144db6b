// The numbers of linux/gpio.h this binding uses, as the probe (probe.ts)
// reads them from the compiled header. The uAPI v2 structs were designed with
// explicit padding and 64-bit fields only, so x64, arm64 and 32-bit arm agree
// on every one: test/drivers/gpio/layouts.test.ts compiles the probe for each
// and compares with this single table.
import type { GpioLayout } from './spec.js';

export const LAYOUT: GpioLayout = {
  structs: {
    gpiochip_info: {
      size: 68,
      align: 4,
      fields: {
        name: [0, 32],
        label: [32, 32],
        lines: [64, 4],
      },
    },
    gpio_v2_line_attribute: {
      size: 16,
      align: 8,
      fields: {
        id: [0, 4],
        padding: [4, 4],
        flags: [8, 8],
        values: [8, 8],
        debounce_period_us: [8, 4],
      },
    },
    gpio_v2_line_config_attribute: {
      size: 24,
      align: 8,
      fields: {
        attr: [0, 16],
        mask: [16, 8],
      },
    },
    gpio_v2_line_config: {
      size: 272,
      align: 8,
      fields: {
        flags: [0, 8],
        num_attrs: [8, 4],
        padding: [12, 20],
        attrs: [32, 240],
      },
    },
    gpio_v2_line_request: {
      size: 592,
      align: 8,
      fields: {
        offsets: [0, 256],
        consumer: [256, 32],
        config: [288, 272],
        num_lines: [560, 4],
        event_buffer_size: [564, 4],
        padding: [568, 20],
        fd: [588, 4],
      },
    },
    gpio_v2_line_info: {
      size: 256,
      align: 8,
      fields: {
        name: [0, 32],
        consumer: [32, 32],
        offset: [64, 4],
        num_attrs: [68, 4],
        flags: [72, 8],
        attrs: [80, 160],
        padding: [240, 16],
      },
    },
    gpio_v2_line_values: {
      size: 16,
      align: 8,
      fields: {
        bits: [0, 8],
        mask: [8, 8],
      },
    },
    gpio_v2_line_event: {
      size: 48,
      align: 8,
      fields: {
        timestamp_ns: [0, 8],
        id: [8, 4],
        offset: [12, 4],
        seqno: [16, 4],
        line_seqno: [20, 4],
        padding: [24, 24],
      },
    },
  },
  ioctls: {
    GPIO_GET_CHIPINFO_IOCTL: 0x8044b401,
    GPIO_V2_GET_LINEINFO_IOCTL: 0xc100b405,
    GPIO_V2_GET_LINE_IOCTL: 0xc250b407,
    GPIO_V2_LINE_SET_CONFIG_IOCTL: 0xc110b40d,
    GPIO_V2_LINE_GET_VALUES_IOCTL: 0xc010b40e,
    GPIO_V2_LINE_SET_VALUES_IOCTL: 0xc010b40f,
  },
  constants: {
    GPIO_MAX_NAME_SIZE: 32,
    GPIO_V2_LINES_MAX: 64,
    GPIO_V2_LINE_NUM_ATTRS_MAX: 10,
    GPIO_V2_LINE_FLAG_USED: 1,
    GPIO_V2_LINE_FLAG_ACTIVE_LOW: 2,
    GPIO_V2_LINE_FLAG_INPUT: 4,
    GPIO_V2_LINE_FLAG_OUTPUT: 8,
    GPIO_V2_LINE_FLAG_EDGE_RISING: 16,
    GPIO_V2_LINE_FLAG_EDGE_FALLING: 32,
    GPIO_V2_LINE_FLAG_OPEN_DRAIN: 64,
    GPIO_V2_LINE_FLAG_OPEN_SOURCE: 128,
    GPIO_V2_LINE_FLAG_BIAS_PULL_UP: 256,
    GPIO_V2_LINE_FLAG_BIAS_PULL_DOWN: 512,
    GPIO_V2_LINE_FLAG_BIAS_DISABLED: 1024,
    GPIO_V2_LINE_FLAG_EVENT_CLOCK_REALTIME: 2048,
    GPIO_V2_LINE_ATTR_ID_FLAGS: 1,
    GPIO_V2_LINE_ATTR_ID_OUTPUT_VALUES: 2,
    GPIO_V2_LINE_ATTR_ID_DEBOUNCE: 3,
    GPIO_V2_LINE_EVENT_RISING_EDGE: 1,
    GPIO_V2_LINE_EVENT_FALLING_EDGE: 2,
  },
};

