/*
 * How much stack x264_encoder_encode needs (README: why koffi's 128 KiB
 * async stack is not used for it). Paints a thread stack, encodes 50 noisy
 * 704x576 frames on that thread, counts the bytes touched.
 *
 *   gcc -O2 -o stack-probe drivers/encoder/x264/stack-probe.c -lx264 -lpthread
 *   ./stack-probe veryfast
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <x264.h>

enum { W = 704, H = 576, STACK = 4 << 20 };
static x264_t *h;

static void *encode(void *arg)
{
    x264_picture_t pic, out;
    x264_nal_t *nal;
    int n;
    (void)arg;
    x264_picture_alloc(&pic, X264_CSP_I420, W, H);
    for (int i = 0; i < 50; i++) {
        for (int p = 0; p < W * H; p++) pic.img.plane[0][p] = (uint8_t)(p + i * 3 + (rand() & 15));
        memset(pic.img.plane[1], 128, W * H / 4);
        memset(pic.img.plane[2], 128, W * H / 4);
        pic.i_pts = i;
        x264_encoder_encode(h, &nal, &n, &pic, &out);
    }
    x264_picture_clean(&pic);
    return NULL;
}

int main(int argc, char **argv)
{
    const char *preset = argc > 1 ? argv[1] : "veryfast";
    x264_param_t p;
    x264_param_default_preset(&p, preset, "zerolatency");
    p.i_width = W;
    p.i_height = H;
    p.i_threads = 1;
    p.i_log_level = X264_LOG_NONE;
    x264_param_parse(&p, "bitrate", "2048");
    x264_param_parse(&p, "vbv-maxrate", "2048");
    x264_param_parse(&p, "vbv-bufsize", "2048");
    x264_param_apply_profile(&p, "high");
    h = x264_encoder_open(&p);

    uint8_t *stack;
    if (posix_memalign((void **)&stack, 4096, STACK)) return 1;
    memset(stack, 0xa5, STACK);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstack(&attr, stack, STACK);
    pthread_t t;
    pthread_create(&t, &attr, encode, NULL);
    pthread_join(t, NULL);
    size_t untouched = 0;
    while (untouched < STACK && stack[untouched] == 0xa5) untouched++;
    printf("%s: x264_encoder_encode used %zu bytes of stack\n", preset, (size_t)STACK - untouched);
    x264_encoder_close(h);
    return 0;
}
