/*
 * Prints sizeof/offsetof of the x264 structures the encoder driver touches
 * directly, for the x264.h it is compiled against. Compile only (-S): the
 * values are read from the generated assembly, so a cross compiler works
 * without running anything on the target. See gen-layout.sh.
 */
#include <stddef.h>
#include <stdint.h>
#include <x264.h>

#define EMIT(name, value) __asm__ volatile("\n.ascii \"@@LAYOUT " name " %c0@@\"" : : "i"((long)(value)))
#define OFF(type, field, name) EMIT(name, offsetof(type, field))

void x264_layout_probe(void);
void x264_layout_probe(void)
{
    EMIT("build", X264_BUILD);
    EMIT("pointerSize", sizeof(void *));

    EMIT("param.size", sizeof(x264_param_t));
    OFF(x264_param_t, i_threads, "param.i_threads");
    OFF(x264_param_t, i_width, "param.i_width");
    OFF(x264_param_t, i_height, "param.i_height");
    OFF(x264_param_t, i_csp, "param.i_csp");
    OFF(x264_param_t, i_fps_num, "param.i_fps_num");
    OFF(x264_param_t, i_fps_den, "param.i_fps_den");
    OFF(x264_param_t, i_timebase_num, "param.i_timebase_num");
    OFF(x264_param_t, i_timebase_den, "param.i_timebase_den");
    OFF(x264_param_t, i_keyint_max, "param.i_keyint_max");
    OFF(x264_param_t, i_bframe, "param.i_bframe");
    OFF(x264_param_t, b_repeat_headers, "param.b_repeat_headers");
    OFF(x264_param_t, b_annexb, "param.b_annexb");
    OFF(x264_param_t, rc.i_rc_method, "param.rc.i_rc_method");
    OFF(x264_param_t, rc.i_bitrate, "param.rc.i_bitrate");
    OFF(x264_param_t, rc.i_vbv_max_bitrate, "param.rc.i_vbv_max_bitrate");

    EMIT("picture.size", sizeof(x264_picture_t));
    OFF(x264_picture_t, i_type, "picture.i_type");
    OFF(x264_picture_t, b_keyframe, "picture.b_keyframe");
    OFF(x264_picture_t, i_pts, "picture.i_pts");
    OFF(x264_picture_t, i_dts, "picture.i_dts");
    OFF(x264_picture_t, img.i_csp, "picture.img.i_csp");
    OFF(x264_picture_t, img.i_plane, "picture.img.i_plane");
    OFF(x264_picture_t, img.i_stride, "picture.img.i_stride");
    OFF(x264_picture_t, img.plane, "picture.img.plane");

    EMIT("nal.size", sizeof(x264_nal_t));
    OFF(x264_nal_t, i_ref_idc, "nal.i_ref_idc");
    OFF(x264_nal_t, i_type, "nal.i_type");
    OFF(x264_nal_t, i_payload, "nal.i_payload");
    OFF(x264_nal_t, p_payload, "nal.p_payload");
}
